package io.tollgate.it;

import io.lettuce.core.RedisClient;
import io.lettuce.core.resource.ClientResources;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tollgate.BudgetResolver;
import io.tollgate.GovernanceConfig;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.TollgateListener.StoreState;
import io.tollgate.UsageTracker;
import io.tollgate.micrometer.MicrometerListener;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.resilience.ResilientStoreOptions;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis is paused (SIGSTOP) for 5 seconds under load: connections stay open and nothing answers. No caller waits
 * longer than the timeout (plus a margin for a loaded machine), fail-open admits meanwhile, and after SIGCONT the
 * buffer is replayed and every counter holds what was charged.
 */
class RedisPauseTest {

    private RedisFixture redis;
    private ClientResources resources;
    private RedisClient client;

    @BeforeEach
    void start() {
        redis = RedisFixture.start();
        resources = Fixtures.resources();
        client = Fixtures.client(redis, resources);
    }

    @AfterEach
    void stop() {
        if (redis != null) {
            redis.close();
        }
        Fixtures.shutdown(client, resources);
    }

    @Test
    void pausedRedisNeverHoldsACallerPastTheTimeoutAndConvergesAfterwards() throws Exception {
        GovernanceConfig config = Fixtures.config();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CountingListener listener = new CountingListener(MicrometerListener.create(registry));
        RedisGovernanceStore primary = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().commandTimeout(Duration.ofMillis(250)).build())
                .build();
        RedisKillTest.warmUp(primary);
        ResilientGovernanceStore store = ResilientGovernanceStore.builder(primary)
                .options(ResilientStoreOptions.builder().policy(FailurePolicy.FAIL_OPEN)
                        .waitInOpenState(Duration.ofMillis(300)).build())
                .listener(listener)
                .build();
        BudgetResolver resolver = BudgetResolver.create(store, config).withListener(listener);
        List<Limit> limits = RedisKillTest.limitsOf(resolver);
        UsageTracker tracker = UsageTracker.create(store, config);
        Duration bound = store.timeout().plusSeconds(1);

        Load load = new Load(resolver, tracker, 4, 1_000);
        try {
            Fixtures.sleep(1_000);
            load.phase("before");
            redis.pause();
            Fixtures.sleep(5_000);
            redis.resume();
            long resumedAt = System.nanoTime();
            Histogram fault = load.phase("fault");
            Fixtures.await("the probe, the replay and the circuit closed", Duration.ofSeconds(30),
                    () -> store.state() == StoreState.AVAILABLE && store.stats().buffered() == 0);
            double converge = (System.nanoTime() - resumedAt) / 1e9;
            Fixtures.sleep(1_000);
            load.stop();
            Histogram after = load.phase("after");
            Fixtures.await("the buffer to drain", Duration.ofSeconds(30), () -> store.stats().buffered() == 0);

            Map<String, Long> expected = RedisKillTest.expected(limits, load);
            Map<String, Long> actual = RedisKillTest.actual(primary, limits);
            long lost = load.chargesLost.get() + store.stats().dropped();
            long timedOutChecks = listener.failures("reserve");
            Summary.print("redis-pause", load.served.get(), Load.p99Millis(fault), Load.maxMillis(fault), lost,
                    converge, String.format(Locale.ROOT, "pause=5.0s timeout=%dms degraded=%d buffered=%d "
                                    + "replayed=%d checks-timed-out=%d requests-counted-over=%d",
                            store.timeout().toMillis(), load.degraded.get(), store.stats().bufferedTotal(),
                            store.stats().replayed(), timedOutChecks,
                            RedisKillTest.sum(actual, Metric.REQUESTS) - RedisKillTest.sum(expected, Metric.REQUESTS)));

            assertThat(Duration.ofNanos(fault.getMaxValue() * 1_000))
                    .as("no caller waited longer than the timeout plus a margin").isLessThanOrEqualTo(bound);
            assertThat(Duration.ofNanos(after.getMaxValue() * 1_000)).isLessThanOrEqualTo(bound);
            assertThat(load.chargesLost).hasValue(0);
            assertThat(store.stats().dropped()).isZero();
            assertThat(load.degraded.get()).as("fail-open admitted during the pause").isPositive();
            assertThat(load.denied).as("fail-open denies nothing").hasValue(0);
            for (Metric metric : List.of(Metric.TOKENS, Metric.COST)) {
                assertThat(RedisKillTest.sum(actual, metric)).as("%s: charged exactly once", metric)
                        .isEqualTo(RedisKillTest.sum(expected, metric));
            }
            // a check that timed out on the paused Redis still runs when it wakes: counted there, and by the policy
            assertThat(RedisKillTest.sum(actual, Metric.REQUESTS))
                    .isBetween(RedisKillTest.sum(expected, Metric.REQUESTS),
                            RedisKillTest.sum(expected, Metric.REQUESTS) + timedOutChecks);
            assertThat(registry.get("tollgate.store.latency").tag("operation", "reserve").tag("result", "failure")
                    .timer().count()).isEqualTo(timedOutChecks);
        } finally {
            load.stop();
            store.close();
        }
    }
}
