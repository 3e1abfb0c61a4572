package io.tollgate.it;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Limit;
import io.tollgate.LimitUsage;
import io.tollgate.Metric;
import io.tollgate.TollgateListener.StoreState;
import io.tollgate.UsageTracker;
import io.tollgate.jdbc.JdbcSnapshotSource;
import io.tollgate.jdbc.SnapshotFlusher;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.micrometer.MicrometerListener;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.resilience.ResilientStoreOptions;
import io.tollgate.resilience.RestoreWatch;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis is killed (SIGKILL) under load and restarted empty. It restores itself from the MariaDB snapshots, the
 * decorator replays on top what it buffered during the outage and what the dead Redis had acknowledged since the last
 * flush: afterwards every counter holds exactly what was charged, none lost, none counted twice.
 */
class RedisKillTest {

    @RegisterExtension
    final Servers servers = new Servers();

    @Test
    void killedAndRestartedEmptyRedisEndsWithEveryChargeCountedOnce() throws Exception {
        GovernanceConfig config = Fixtures.config();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CountingListener metrics = new CountingListener(MicrometerListener.create(registry));
        RestoreWatch restores = RestoreWatch.of(JdbcSnapshotSource.create(servers.db().dataSource()));
        RedisGovernanceStore primary = RedisGovernanceStore.builder(servers.client())
                .options(RedisStoreOptions.builder().commandTimeout(Duration.ofMillis(250))
                        .snapshotSource(restores).build())
                .build();
        warmUp(primary);
        ResilientGovernanceStore store = ResilientGovernanceStore.builder(primary)
                .options(ResilientStoreOptions.builder().policy(FailurePolicy.LOCAL)
                        .waitInOpenState(Duration.ofMillis(300)).build())
                .restoreWatch(restores)
                .listener(metrics)
                .build();
        SnapshotFlusher flusher = SnapshotFlusher.builder(store, servers.db().dataSource())
                .interval(Duration.ofMillis(200))
                .retryBackoff(Duration.ofMillis(100), Duration.ofMillis(400))
                .listener(metrics)
                .build()
                .start();
        BudgetResolver resolver = BudgetResolver.create(store, config).withListener(metrics);
        List<Limit> limits = limitsOf(resolver);
        UsageTracker tracker = UsageTracker.create(store, config);

        Load load = new Load(resolver, tracker, 4, 1_000);
        try {
            Fixtures.sleep(1_500);
            load.phase("before");
            servers.redis().kill();
            long killedAt = System.nanoTime();
            Fixtures.await("the circuit to open", Duration.ofSeconds(10),
                    () -> store.state() == StoreState.UNAVAILABLE);
            Fixtures.sleep(2_000);
            servers.redis().restart();
            long restartedAt = System.nanoTime();
            Fixtures.await("the restore, the replay and the circuit closed", Duration.ofSeconds(30),
                    () -> store.stats().dataLosses() >= 1 && store.state() == StoreState.AVAILABLE
                            && store.stats().buffered() == 0);
            double converge = (System.nanoTime() - restartedAt) / 1e9;
            double outage = (restartedAt - killedAt) / 1e9;
            Histogram fault = load.phase("fault");
            Fixtures.sleep(1_500);
            load.stop();
            load.phase("after");
            Fixtures.await("the buffer to drain", Duration.ofSeconds(30), () -> store.stats().buffered() == 0);
            flusher.flushNow();

            Map<String, Long> expected = expected(limits, load);
            Map<String, Long> actual = actual(primary, limits);
            long lost = load.chargesLost.get() + store.stats().dropped();
            long usageLost = 0;
            for (Map.Entry<String, Long> counter : expected.entrySet()) {
                usageLost += Math.max(0, counter.getValue() - actual.getOrDefault(counter.getKey(), 0L));
            }
            Summary.print("redis-kill", load.served.get(), Load.p99Millis(fault), Load.maxMillis(fault),
                    lost + usageLost, converge, String.format(java.util.Locale.ROOT,
                            "outage=%.1fs degraded=%d buffered=%d replayed=%d restores=%d checks-failed=%d "
                                    + "requests-counted-over=%d", outage,
                            load.degraded.get(), store.stats().bufferedTotal(), store.stats().replayed(),
                            restores.runs(), metrics.failures("reserve"),
                            sum(actual, Metric.REQUESTS) - sum(expected, Metric.REQUESTS)));

            assertThat(load.chargesLost).hasValue(0);
            assertThat(store.stats().dropped()).isZero();
            assertThat(load.degraded.get()).as("the policy answered during the outage").isPositive();
            assertThat(restores.runs()).as("Redis restored itself from the snapshots").isGreaterThanOrEqualTo(1);
            for (Metric metric : List.of(Metric.TOKENS, Metric.COST)) {
                assertThat(sum(actual, metric)).as("%s: every charge counted exactly once", metric)
                        .isEqualTo(sum(expected, metric));
            }
            // a check has no idempotency key: one whose call failed may still have run in Redis, so the request
            // can be counted by Redis and by the policy's buffered amounts; never fewer than admitted
            assertThat(sum(actual, Metric.REQUESTS)).as("requests: none lost")
                    .isBetween(sum(expected, Metric.REQUESTS),
                            sum(expected, Metric.REQUESTS) + metrics.failures("reserve"));
            assertThat(Counters.rows(servers.db().dataSource()))
                    .as("and the snapshots hold what Redis holds")
                    .containsAllEntriesOf(live(primary, limits));
            assertThat(registry.get("tollgate.restore.runs").tag("result", "success").counter().count())
                    .isGreaterThanOrEqualTo(1);
            assertThat(registry.get("tollgate.store.data.losses").counter().count()).isGreaterThanOrEqualTo(1);
            assertThat(registry.get("tollgate.usage.replayed").counter().count()).isPositive();
            assertThat(registry.get("tollgate.decisions").tag("degraded", "true").counter().count()).isPositive();
            assertThat(registry.get("tollgate.flush.lag").gauge().value()).isLessThan(60);
        } finally {
            load.stop();
            flusher.close();
            store.close();
        }
    }

    /** Runs the new Redis's first restore (from no snapshots yet) before the test measures anything. */
    static void warmUp(RedisGovernanceStore primary) {
        Fixtures.await("the Redis store to answer", Duration.ofSeconds(30), () -> {
            try {
                primary.charge("warm-up", List.of()).toCompletableFuture().join();
                return true;
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    /** The request's limits, from a decision of the healthy store. */
    static List<Limit> limitsOf(BudgetResolver resolver) {
        Decision probe = resolver.check(CheckRequest.builder().virtualKey(Fixtures.SECRET)
                .provider(Fixtures.PROVIDER).model(Fixtures.MODEL).estimatedTokens(0).build());
        assertThat(probe.allowed()).isTrue();
        assertThat(probe.degraded()).isFalse();
        // this probe took one request slot: it is counted as admitted by the expected values below
        return probe.limits().stream().map(LimitUsage::limit).toList();
    }

    /** What each counter must hold: every admitted request (plus the probe), every charged token and nanodollar. */
    static Map<String, Long> expected(List<Limit> limits, Load load) {
        Map<String, Long> expected = new LinkedHashMap<>();
        for (Limit limit : limits) {
            long value = switch (limit.metric()) {
                case REQUESTS -> load.admitted.get() + 1;
                case TOKENS -> load.tokensCharged.get();
                case COST -> load.costCharged.get();
                // every request has ended: its final charge gave its place back
                case IN_FLIGHT -> 0L;
            };
            expected.put(limit.counterId().toString(), value);
        }
        return expected;
    }

    static Map<String, Long> actual(RedisGovernanceStore primary, List<Limit> limits) {
        Map<String, Long> actual = new LinkedHashMap<>();
        for (CounterState state : primary.read(limits).toCompletableFuture().join()) {
            actual.put(state.limit().counterId().toString(), state.used());
        }
        return actual;
    }

    /** The current window of each limit's counter in Redis, keyed like the snapshot rows. */
    static Map<String, Long> live(RedisGovernanceStore primary, List<Limit> limits) {
        List<CounterSnapshot> snapshots = new ArrayList<>();
        for (CounterState state : primary.read(limits).toCompletableFuture().join()) {
            snapshots.add(new CounterSnapshot(state.limit().counterId(), state.window(), state.used(), 0));
        }
        return Counters.keyed(snapshots);
    }

    static long sum(Map<String, Long> values, Metric metric) {
        return values.entrySet().stream().filter(e -> e.getKey().contains("/" + metric + "/"))
                .mapToLong(Map.Entry::getValue).sum();
    }
}
