package io.tollgate.spring;

import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.cluster.RedisClusterClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.tollgate.BudgetResolver;
import io.tollgate.HolderKind;
import io.tollgate.Limit;
import io.tollgate.Money;
import io.tollgate.TollgateListener;
import io.tollgate.UsageTracker;
import io.tollgate.micrometer.MicrometerListener;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spring.TollgateProperties.StoreType;
import io.tollgate.usage.PriceTable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import javax.sql.DataSource;
import java.time.Clock;
import java.util.function.Predicate;

/**
 * Tollgate from {@code tollgate.*} properties and the application's own beans: its Lettuce client (or Spring Data
 * Redis's), its {@code DataSource}, its {@code MeterRegistry}, its resilience4j {@code CircuitBreakerRegistry}. Every
 * bean backs off when the application defines its own of that type.
 *
 * <p>Closing happens in the one safe order whatever the application's beans: Spring closes what uses the resolver and
 * the tracker first, then {@link TollgateStores} closes the flusher (a final flush), the store (a last replay) and
 * the client it opened; the config source stops watching on its own.
 */
@AutoConfiguration
@EnableConfigurationProperties(TollgateProperties.class)
public class TollgateAutoConfiguration {

    /** Metrics when the application has a registry; else nothing. */
    @Bean
    @ConditionalOnMissingBean
    public TollgateListener tollgateListener(ObjectProvider<MeterRegistry> registry, TollgateProperties properties) {
        MeterRegistry meters = registry.getIfAvailable();
        if (meters == null) {
            return TollgateListener.NOOP;
        }
        return MicrometerListener.builder(meters)
                .holderIds(properties.getMetricsHolderIds().toArray(HolderKind[]::new)).build();
    }

    @Bean
    @ConditionalOnMissingBean
    public TollgateConfigSource tollgateConfigSource(TollgateProperties properties,
                                                     ObjectProvider<DataSource> dataSource) {
        return ConfigSources.from(properties.getConfig(), dataSource.getIfAvailable());
    }

    @Bean
    @ConditionalOnMissingBean
    public TollgateStores tollgateStores(TollgateProperties properties, ObjectProvider<RedisClient> redisClient,
                                         ObjectProvider<RedisClusterClient> clusterClient,
                                         ObjectProvider<SpringDataRedisClient> springDataRedis,
                                         ObjectProvider<DataSource> dataSource,
                                         ObjectProvider<CircuitBreakerRegistry> breakers,
                                         TollgateListener listener) {
        if (properties.getStore() == StoreType.MEMORY) {
            return TollgateStores.memory(properties);
        }
        // tollgate.redis.uri, when set, wins over the application's clients
        AbstractRedisClient client = redisClient.getIfUnique();
        if (client == null) {
            client = clusterClient.getIfUnique();
        }
        if (client == null) {
            SpringDataRedisClient fromSpringData = springDataRedis.getIfAvailable();
            client = fromSpringData == null ? null : fromSpringData.client();
        }
        return TollgateStores.redis(properties, client, dataSource.getIfAvailable(), breakers.getIfUnique(), listener);
    }

    /** Closed by {@link TollgateStores}, in its order. */
    @Bean(destroyMethod = "")
    @ConditionalOnMissingBean
    public GovernanceStore tollgateStore(TollgateStores stores) {
        return stores.store();
    }

    @Bean
    @ConditionalOnMissingBean
    public BudgetResolver tollgateBudgetResolver(GovernanceStore store, TollgateConfigSource config,
                                                 TollgateListener listener, TollgateProperties properties) {
        BudgetResolver resolver = BudgetResolver.create(store, config, Clock.systemUTC()).withListener(listener)
                .withNearLimitRatio(properties.getNearLimitRatio());
        Predicate<Limit> shadowed = ShadowedLimits.of(properties.getShadow().isEnabled(),
                properties.getShadow().getHolders());
        return shadowed == null ? resolver : resolver.withShadow(shadowed);
    }

    @Bean
    @ConditionalOnMissingBean
    public UsageTracker tollgateUsageTracker(GovernanceStore store, TollgateConfigSource config,
                                             TollgateListener listener) {
        return UsageTracker.create(store, config).withListener(listener);
    }

    @Bean
    @ConditionalOnMissingBean
    public TollgateHeaders tollgateHeaders(TollgateProperties properties) {
        return TollgateHeaders.from(properties.getHeaders());
    }

    /** {@code tollgate.prices}: a price per provider and model, or per provider without a model. */
    @Bean
    @ConditionalOnMissingBean
    public PriceTable tollgatePriceTable(TollgateProperties properties) {
        PriceTable.Builder prices = PriceTable.builder();
        for (TollgateProperties.Price price : properties.getPrices()) {
            Money input = Money.parse(price.getInput());
            Money output = Money.parse(price.getOutput());
            if (price.getModel() == null || price.getModel().isBlank()) {
                prices.providerDefault(price.getProvider(), input, output);
            } else {
                prices.price(price.getProvider(), price.getModel(), input, output);
            }
        }
        return prices.build();
    }

    @Bean
    @ConditionalOnMissingBean
    public TollgateRequestResolver tollgateRequestResolver(TollgateProperties properties) {
        return new DefaultTollgateRequestResolver(properties.getFilter());
    }

    /** The Spring Data Redis client, when that is on the class path. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory")
    static class SpringDataRedis {

        @Bean
        SpringDataRedisClient tollgateSpringDataRedisClient(ObjectProvider<LettuceConnectionFactory> factory) {
            return new SpringDataRedisClient(() -> {
                LettuceConnectionFactory connections = factory.getIfUnique();
                if (connections == null) {
                    return null;
                }
                // it opens its client when it starts, which may come after Tollgate needs it
                if (!connections.isRunning()) {
                    connections.start();
                }
                return connections.getNativeClient();
            });
        }
    }
}
