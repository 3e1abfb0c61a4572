package io.tollgate.it;

import io.tollgate.BudgetResolver;
import io.tollgate.GovernanceConfig;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.TollgateListener;
import io.tollgate.TollgateListener.StoreState;
import io.tollgate.UsageTracker;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.resilience.ResilientStoreOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.tollgate.it.RedisKillTest.sum;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A gateway starts while Redis is down: the stores are built all the same, the failure policy answers under load, and
 * once Redis starts the store connects, the circuit closes and what the policy admitted is counted in Redis, once.
 */
class StartWhileRedisDownTest {

    @RegisterExtension
    final Servers servers = new Servers();

    @Test
    void aGatewayStartedWhileRedisIsDownAnswersByItsPolicyThenCountsEverythingOnceRedisStarts() throws Exception {
        servers.redis().kill();
        GovernanceConfig config = Fixtures.config();
        CountingListener metrics = new CountingListener(TollgateListener.NOOP);
        RedisGovernanceStore primary = RedisGovernanceStore.builder(servers.client())
                .options(RedisStoreOptions.builder().commandTimeout(Duration.ofMillis(250)).build())
                .build();
        ResilientGovernanceStore store = ResilientGovernanceStore.builder(primary)
                .options(ResilientStoreOptions.builder().policy(FailurePolicy.LOCAL)
                        .waitInOpenState(Duration.ofMillis(300)).build())
                .listener(metrics)
                .build();
        BudgetResolver resolver = BudgetResolver.create(store, config).withListener(metrics);
        UsageTracker tracker = UsageTracker.create(store, config);

        Load load = new Load(resolver, tracker, 4, 1_000);
        try {
            Fixtures.sleep(2_000);
            long degradedWhileDown = load.degraded.get();
            long servedWhileDown = load.served.get();
            servers.redis().restart();
            long startedAt = System.nanoTime();
            Fixtures.await("the store to connect, the circuit to close and the buffer to drain",
                    Duration.ofSeconds(30), () -> store.state() == StoreState.AVAILABLE && store.stats().buffered() == 0);
            double converge = (System.nanoTime() - startedAt) / 1e9;
            Fixtures.sleep(1_000);
            load.stop();
            Fixtures.await("the buffer to drain", Duration.ofSeconds(30), () -> store.stats().buffered() == 0);

            List<Limit> limits = RedisKillTest.limitsOf(resolver);
            Map<String, Long> expected = RedisKillTest.expected(limits, load);
            Map<String, Long> actual = RedisKillTest.actual(primary, limits);
            Summary.print("start-while-redis-down", load.served.get(), 0, 0,
                    Math.max(0, sum(expected, Metric.TOKENS) - sum(actual, Metric.TOKENS)), converge,
                    String.format(Locale.ROOT, "served-while-down=%d degraded-while-down=%d replayed=%d",
                            servedWhileDown, degradedWhileDown, store.stats().replayed()));

            assertThat(servedWhileDown).as("the policy answered while Redis was down").isPositive();
            assertThat(degradedWhileDown).isEqualTo(servedWhileDown);
            assertThat(load.checkFailures).as("no check failed: the policy answered every one").hasValue(0);
            assertThat(load.chargesLost).hasValue(0);
            assertThat(store.stats().dropped()).isZero();
            assertThat(store.stats().replayed()).as("what the policy admitted went to Redis").isPositive();
            for (Metric metric : List.of(Metric.TOKENS, Metric.COST)) {
                assertThat(sum(actual, metric)).as("%s: every charge counted exactly once", metric)
                        .isEqualTo(sum(expected, metric));
            }
            assertThat(sum(actual, Metric.REQUESTS)).as("requests: none lost")
                    .isBetween(sum(expected, Metric.REQUESTS),
                            sum(expected, Metric.REQUESTS) + metrics.failures("reserve"));
        } finally {
            load.stop();
            store.close();
        }
    }
}
