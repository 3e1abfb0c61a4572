package io.tollgate.spring;

import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.ConfigLoader;
import io.tollgate.Decision;
import io.tollgate.jdbc.JdbcConfigStore;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.jdbc.testing.TestDatabase;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spring.actuate.TollgateEndpoint;
import io.tollgate.spring.actuate.TollgateHealthIndicator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import javax.sql.DataSource;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The starter in a Spring Boot application with a real Redis and a real MariaDB: limits read from the database,
 * counters in Redis behind the resilient store (its breaker in the application's registry), snapshots flushed to the
 * database, health and the actuator endpoint.
 */
@SpringBootTest(classes = StarterWithRedisAndMariaDbTest.Application.class, webEnvironment = SpringBootTest.WebEnvironment.NONE)
class StarterWithRedisAndMariaDbTest {

    private static final RedisFixture REDIS = RedisFixture.start();
    private static final TestDatabase DB = TestDatabase.create(StarterWithRedisAndMariaDbTest.class);

    static {
        JdbcConfigStore.create(DB.dataSource()).replaceAll(ConfigLoader.parseYaml("""
                teams:
                  - id: research
                    rateLimit: {requestMax: 100, requestResetPeriod: 1h}
                virtualKeys:
                  - id: vk-db
                    secret: sk-db
                    teamId: research
                    rateLimit: {requestMax: 2, requestResetPeriod: 1h}
                """));
    }

    @Autowired
    private GovernanceStore store;
    @Autowired
    private BudgetResolver resolver;
    @Autowired
    private TollgateConfigSource config;
    @Autowired
    private TollgateHealthIndicator health;
    @Autowired
    private TollgateEndpoint endpoint;
    @Autowired
    private CircuitBreakerRegistry breakers;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("tollgate.store", () -> "redis");
        registry.add("tollgate.redis.uri", () -> REDIS.uri().toURI().toString());
        registry.add("tollgate.config.source", () -> "jdbc");
        registry.add("tollgate.flush.interval", () -> "200ms");
        registry.add("tollgate.resilience.expected-replicas", () -> "3");
    }

    @AfterAll
    static void stop() {
        DB.close();
        REDIS.close();
    }

    @Test
    void limitsComeFromTheDatabaseCountersFromRedisAndSnapshotsGoBackToTheDatabase() throws Exception {
        assertThat(store).isInstanceOf(ResilientGovernanceStore.class);
        assertThat(config.description()).isEqualTo("MariaDB");
        assertThat(config.version()).isEqualTo(JdbcConfigStore.builder(DB.dataSource()).migrate(false).build()
                .version());
        assertThat(breakers.find("tollgate")).as("the breaker is in the application's registry").isPresent();

        CheckRequest check = CheckRequest.builder().virtualKey("sk-db").build();
        Decision first = resolver.check(check);
        assertThat(first.allowed()).as("%s", first).isTrue();
        assertThat(first.degraded()).as("Redis answered").isFalse();
        assertThat(resolver.check(check).allowed()).isTrue();
        assertThat(resolver.check(check).allowed()).as("the database's limit of 2").isFalse();

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Counters.rows(DB.dataSource()).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Counters.rows(DB.dataSource()).values()).as("snapshots of the key's and the team's counters")
                .contains(2L);

        Health now = health.health();
        assertThat(now.getStatus()).isEqualTo(Status.UP);
        assertThat(now.getDetails()).containsEntry("circuit", "closed").containsEntry("config", "MariaDB")
                .containsKey("flushLagSeconds");
        Map<String, Object> holder = endpoint.holder("virtual-key", "vk-db");
        assertThat((List<?>) holder.get("limits")).singleElement().isEqualTo(Map.of("metric", "requests",
                "max", 2L, "used", 2L, "remaining", 0L, "windowStart", ((Map<?, ?>) ((List<?>) holder.get("limits"))
                        .get(0)).get("windowStart"), "windowEnd", ((Map<?, ?>) ((List<?>) holder.get("limits"))
                        .get(0)).get("windowEnd")));
        assertThat(endpoint.summary().toString()).doesNotContain("sk-db");
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class Application {

        /** The application's pool; the test closes it. */
        @Bean(destroyMethod = "")
        DataSource dataSource() {
            return DB.dataSource();
        }

        @Bean
        CircuitBreakerRegistry circuitBreakerRegistry() {
            return CircuitBreakerRegistry.ofDefaults();
        }
    }
}
