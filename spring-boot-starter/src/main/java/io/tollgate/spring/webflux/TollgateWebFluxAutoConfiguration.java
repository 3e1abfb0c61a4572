package io.tollgate.spring.webflux;

import io.tollgate.BudgetResolver;
import io.tollgate.UsageTracker;
import io.tollgate.spring.TollgateAutoConfiguration;
import io.tollgate.spring.TollgateHeaders;
import io.tollgate.spring.TollgateProperties;
import io.tollgate.spring.TollgateRequestResolver;
import io.tollgate.usage.PriceTable;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.server.WebFilter;

/**
 * The reactive side: an {@link ExchangeGovernor} for every reactive application (the Spring Cloud Gateway filters use
 * it too), and the {@link TollgateWebFilter} where there is no gateway (unless {@code tollgate.filter.enabled} is
 * false).
 */
@AutoConfiguration(after = TollgateAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
@ConditionalOnClass(WebFilter.class)
public class TollgateWebFluxAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public ExchangeGovernor tollgateExchangeGovernor(BudgetResolver resolver, UsageTracker tracker,
                                                     TollgateRequestResolver requests, PriceTable prices,
                                                     TollgateProperties properties, TollgateHeaders headers) {
        return new ExchangeGovernor(resolver, tracker, requests, prices, properties.getFilter(), headers::of);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnMissingClass("org.springframework.cloud.gateway.filter.GatewayFilter")
    @ConditionalOnProperty(prefix = "tollgate.filter", name = "enabled", havingValue = "true", matchIfMissing = true)
    public TollgateWebFilter tollgateWebFilter(ExchangeGovernor governor, TollgateProperties properties) {
        return new TollgateWebFilter(governor, properties.getFilter().getOrder());
    }
}
