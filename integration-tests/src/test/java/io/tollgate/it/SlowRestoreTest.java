package io.tollgate.it;

import io.lettuce.core.api.StatefulRedisConnection;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.GovernanceConfig;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.jdbc.JdbcSnapshotSource;
import io.tollgate.jdbc.SnapshotFlusher;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.resilience.ResilientStoreOptions;
import io.tollgate.spi.SnapshotSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A data loss whose restore takes longer than the command timeout (a large snapshot table): the loss is still reported
 * once, and the usage the lost Redis acknowledged after the last flush is replayed on top of the restored counters.
 * The restore is slowed to 1 s and 5 s, twice and ten times the 500 ms command timeout.
 */
class SlowRestoreTest {

    @RegisterExtension
    final Servers servers = new Servers();

    @ParameterizedTest(name = "restore taking {0} ms")
    @ValueSource(ints = {1_000, 5_000})
    void usageAcknowledgedBeforeTheLossIsReplayedAfterASlowRestore(int restoreMillis) {
        GovernanceConfig config = Fixtures.config();
        SnapshotSource snapshots = JdbcSnapshotSource.create(servers.db().dataSource());
        SnapshotSource slow = now -> {
            Fixtures.sleep(restoreMillis);
            return snapshots.currentSnapshots(now);
        };
        RedisGovernanceStore primary = RedisGovernanceStore.builder(servers.client())
                .options(RedisStoreOptions.builder().snapshotSource(slow).build())
                .build();
        ResilientGovernanceStore store = ResilientGovernanceStore.builder(primary)
                .options(ResilientStoreOptions.builder().policy(FailurePolicy.LOCAL)
                        .waitInOpenState(Duration.ofMillis(200)).build())
                .build();
        try (store; SnapshotFlusher flusher = SnapshotFlusher.builder(store, servers.db().dataSource()).build();
             StatefulRedisConnection<String, String> admin = servers.client().connect()) {
            BudgetResolver resolver = BudgetResolver.create(store, config);
            UsageTracker tracker = UsageTracker.create(store, config);
            CheckRequest request = CheckRequest.builder().virtualKey(Fixtures.SECRET).provider(Fixtures.PROVIDER)
                    .model(Fixtures.MODEL).build();
            Limit tokens = RedisKillTest.limitsOf(resolver).stream()
                    .filter(limit -> limit.metric() == Metric.TOKENS && limit.holder().id().equals("vk-1"))
                    .findFirst().orElseThrow();
            charge(tracker, "flushed", 1_000);
            flusher.flushNow();
            // acknowledged by Redis, held by no snapshot
            for (int i = 0; i < 5; i++) {
                charge(tracker, "unflushed-" + i, 100);
            }
            assertThat(used(store, tokens)).isEqualTo(1_500);

            admin.sync().flushall();
            Instant lost = Instant.now();
            // calls go on while the restore runs: they time out and the policy answers, then Redis answers again
            for (int i = 0; i < 200 && store.stats().dataLosses() == 0; i++) {
                resolver.check(request);
                Fixtures.sleep(50);
            }
            Fixtures.await("the loss to be reported and the replay to finish", Duration.ofSeconds(30),
                    () -> store.stats().dataLosses() == 1 && store.stats().buffered() == 0);
            System.out.printf("restore of %d ms: loss reported %d ms after FLUSHALL, %d replayed%n", restoreMillis,
                    Duration.between(lost, Instant.now()).toMillis(), store.stats().replayed());

            assertThat(used(store, tokens)).as("the restored 1,000 and the replayed 500").isEqualTo(1_500);
            assertThat(store.stats().dataLosses()).isEqualTo(1);
            // the usage replayed was charged under its own keys: charging it again changes nothing
            charge(tracker, "unflushed-0", 100);
            assertThat(used(store, tokens)).isEqualTo(1_500);
        }
    }

    private static void charge(UsageTracker tracker, String requestId, long tokens) {
        tracker.charge(UsageUpdate.builder().virtualKey(Fixtures.SECRET).provider(Fixtures.PROVIDER)
                .model(Fixtures.MODEL).requestId(requestId).tokens(tokens).build());
    }

    private static long used(ResilientGovernanceStore store, Limit limit) {
        return store.read(List.of(limit)).toCompletableFuture().join().get(0).used();
    }
}
