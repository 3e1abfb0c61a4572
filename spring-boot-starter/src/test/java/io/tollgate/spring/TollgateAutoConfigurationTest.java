package io.tollgate.spring;

import io.lettuce.core.RedisClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.lettuce.core.api.StatefulRedisConnection;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.Outcome;
import io.tollgate.UsageTracker;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.redis.testing.RedisClusterFixture;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.spi.GovernanceStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/** The starter's beans as properties and the application's own beans ask for them. */
class TollgateAutoConfigurationTest {

    private static final String LIMITS = """
            virtualKeys:
              - id: vk-1
                secret: sk-test-1
                rateLimit: {requestMax: 2, requestResetPeriod: 1h}
            """;

    private static RedisFixture redis;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TollgateAutoConfiguration.class));

    @BeforeAll
    static void startRedis() {
        redis = RedisFixture.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Test
    void byDefaultEveryPartIsThereOverTheInMemoryStore() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(GovernanceStore.class)).isInstanceOf(InMemoryGovernanceStore.class);
            assertThat(context).hasSingleBean(BudgetResolver.class).hasSingleBean(UsageTracker.class)
                    .hasSingleBean(TollgateRequestResolver.class).hasSingleBean(TollgateHeaders.class);
            assertThat(context.getBean(TollgateConfigSource.class).description()).isEqualTo("none");
        });
    }

    @Test
    void inlineYamlLimitsAreEnforced() {
        runner.withPropertyValues("tollgate.config.inline=" + LIMITS).run(context -> {
            BudgetResolver resolver = context.getBean(BudgetResolver.class);
            CheckRequest check = CheckRequest.builder().virtualKey("sk-test-1").build();

            assertThat(resolver.check(check).allowed()).isTrue();
            assertThat(resolver.check(check).allowed()).isTrue();
            assertThat(resolver.check(check).outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        });
    }

    @Test
    void aBadPropertyValueFailsStartUpWithAMessageNamingTheProperty() {
        runner.withPropertyValues("tollgate.redis.command-timeout=-1s").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining("tollgate.redis.commandTimeout")
                        .hasStackTraceContaining("must be positive"));
        runner.withPropertyValues("tollgate.store=redsi").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining("'tollgate.store'"));
        runner.withPropertyValues("tollgate.prices[0].provider=openai", "tollgate.prices[0].input=cheap")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("tollgate.prices[0].input"));
        runner.withPropertyValues("tollgate.shadow.holders[0]=tenant").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining("tollgate.shadow.holders[0]")
                        .hasStackTraceContaining("'tenant' is not a holder kind"));
        runner.withPropertyValues("tollgate.config.inline=virtualKeys: [{id: k, secret: s, rateLimit: "
                + "{requestMax: 5, requestResetPeriod: 1x}}]").run(context ->
                assertThat(context).getFailure()
                        .hasStackTraceContaining("virtualKeys[0].rateLimit.requestResetPeriod"));
    }

    @Test
    void withRedisTheStoreIsResilientOverTheApplicationsOwnClientWhichItNeverCloses() {
        RedisClient client = RedisClient.create(redis.uri());
        try {
            // the application's bean, which Spring would shut down at close unless told not to
            runner.withBean("redisClient", RedisClient.class, () -> client, bean -> bean.setDestroyMethodName(""))
                    .withPropertyValues("tollgate.store=redis", "tollgate.redis.key-prefix=starter-own-client",
                            "tollgate.config.inline=" + LIMITS)
                    .run(context -> {
                        assertThat(context.getBean(GovernanceStore.class)).isInstanceOf(ResilientGovernanceStore.class);
                        Decision decision = context.getBean(BudgetResolver.class)
                                .check(CheckRequest.builder().virtualKey("sk-test-1").build());
                        assertThat(decision.allowed()).isTrue();
                        assertThat(decision.degraded()).as("Redis answered").isFalse();
                    });
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                assertThat(connection.sync().ping()).as("the application's client still works").isEqualTo("PONG");
                assertThat(connection.sync().keys("starter-own-client:*")).isNotEmpty();
            }
        } finally {
            client.shutdown();
        }
    }

    @Test
    void withSpringDataRedisTheStoreUsesTheConnectionFactorysClient() {
        runner.withBean(LettuceConnectionFactory.class,
                        () -> new LettuceConnectionFactory(new RedisStandaloneConfiguration(redis.host(), redis.port())))
                .withPropertyValues("tollgate.store=redis", "tollgate.redis.key-prefix=starter-spring-data",
                        "tollgate.config.inline=" + LIMITS)
                .run(context -> {
                    Decision decision = context.getBean(BudgetResolver.class)
                            .check(CheckRequest.builder().virtualKey("sk-test-1").build());
                    assertThat(decision.allowed()).isTrue();
                    assertThat(decision.degraded()).isFalse();
                });
        RedisClient client = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            assertThat(connection.sync().keys("starter-spring-data:*")).as("the factory's Redis counted it")
                    .isNotEmpty();
        } finally {
            client.shutdown();
        }
    }

    @Test
    void withAClusterSeedUriTheStoreRunsOnRedisCluster() {
        String seed = RedisClusterFixture.shared().seeds().get(0).toURI().toString();
        runner.withPropertyValues("tollgate.store=redis", "tollgate.redis.uri=" + seed, "tollgate.redis.cluster=true",
                        "tollgate.redis.key-prefix=starter-cluster", "tollgate.config.inline=" + LIMITS)
                .run(context -> {
                    assertThat(context.getBean(TollgateStores.class).resilient()).get()
                            .hasToString("ResilientGovernanceStore[RedisGovernanceStore[starter-cluster, cluster]]");
                    BudgetResolver resolver = context.getBean(BudgetResolver.class);
                    CheckRequest check = CheckRequest.builder().virtualKey("sk-test-1").build();
                    assertThat(resolver.check(check).degraded()).as("the cluster answered").isFalse();
                    assertThat(resolver.check(check).allowed()).isTrue();
                    assertThat(resolver.check(check).outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
                });
    }

    @Test
    void leasedAdmissionFromThePropertiesAdmitsFromSlicesAndShowsInTheMeters() {
        runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("tollgate.store=redis", "tollgate.redis.uri=" + redis.uri().toURI(),
                        "tollgate.redis.key-prefix=starter-leases", "tollgate.resilience.enabled=false",
                        "tollgate.redis.leased-admission.all-limits=true",
                        "tollgate.config.inline=virtualKeys: [{id: vk-hot, secret: sk-hot, rateLimit: "
                                + "{requestMax: 1000000, requestResetPeriod: 1h}}]")
                .run(context -> {
                    BudgetResolver resolver = context.getBean(BudgetResolver.class);
                    for (int i = 0; i < 200; i++) {
                        assertThat(resolver.check(CheckRequest.builder().virtualKey("sk-hot").build()).allowed())
                                .isTrue();
                    }
                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    assertThat(meters.get("tollgate.slices.checks").tag("path", "local").counter().count())
                            .isPositive();
                    assertThat(meters.get("tollgate.slices.taken").tag("metric", "requests").counter().count())
                            .isPositive();
                });
        runner.withPropertyValues("tollgate.redis.leased-admission.max-share=0.9").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining("tollgate.redis.leasedAdmission")
                        .hasStackTraceContaining("maxShare: 0.9"));
    }

    @Test
    void withRedisAndNoClientBeanTheStoreConnectsToTheUri() {
        runner.withPropertyValues("tollgate.store=redis", "tollgate.redis.uri=" + redis.uri().toURI(),
                        "tollgate.resilience.enabled=false", "tollgate.config.inline=" + LIMITS)
                .run(context -> {
                    assertThat(context.getBean(GovernanceStore.class).toString()).startsWith("RedisGovernanceStore");
                    assertThat(context.getBean(BudgetResolver.class)
                            .check(CheckRequest.builder().virtualKey("sk-test-1").build()).allowed()).isTrue();
                });
    }
}
