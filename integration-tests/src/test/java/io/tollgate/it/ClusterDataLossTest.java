package io.tollgate.it;

import io.lettuce.core.cluster.RedisClusterClient;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Limit;
import io.tollgate.LimitUsage;
import io.tollgate.Metric;
import io.tollgate.RateLimit;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.jdbc.JdbcSnapshotSource;
import io.tollgate.jdbc.SnapshotFlusher;
import io.tollgate.jdbc.TollgateSchema;
import io.tollgate.jdbc.testing.TestDatabase;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.testing.RedisClusterFixture;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.resilience.ResilientStoreOptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On Redis Cluster a loss is found per hash tag, so the loss of any one master is replayed: usage on keys of all
 * three masters, one master emptied at a time, and after each loss every counter holds exactly what was charged.
 */
class ClusterDataLossTest {

    private static final int KEYS = 24;
    private static final WindowSpec FOREVER = WindowSpec.unbounded();

    @Test
    void theLossOfEachMasterInTurnLosesNothing() {
        GovernanceConfig.Builder builder = GovernanceConfig.builder();
        for (int k = 0; k < KEYS; k++) {
            builder.virtualKey(VirtualKey.builder("vk-" + k).secret(secret(k))
                    .rateLimit(RateLimit.builder().tokens(1_000_000_000L, FOREVER).build()).build());
        }
        GovernanceConfig config = builder.build();
        try (RedisClusterFixture cluster = RedisClusterFixture.start();
             TestDatabase db = TestDatabase.create(ClusterDataLossTest.class)) {
            TollgateSchema.migrate(db.dataSource());
            RedisClusterClient client = cluster.newClient();
            try {
                RedisGovernanceStore primary = RedisGovernanceStore.builder(client)
                        .options(RedisStoreOptions.builder()
                                .snapshotSource(JdbcSnapshotSource.create(db.dataSource())).build())
                        .build();
                ResilientGovernanceStore store = ResilientGovernanceStore.builder(primary)
                        .options(ResilientStoreOptions.builder().policy(FailurePolicy.LOCAL)
                                .waitInOpenState(Duration.ofMillis(200)).build())
                        .build();
                try (store; SnapshotFlusher flusher = SnapshotFlusher.builder(store, db.dataSource()).build()) {
                    run(cluster, config, store, flusher);
                }
            } finally {
                RedisClusterFixture.shutdown(client);
            }
        }
    }

    private static void run(RedisClusterFixture cluster, GovernanceConfig config, ResilientGovernanceStore store,
                            SnapshotFlusher flusher) {
        BudgetResolver resolver = BudgetResolver.create(store, config);
        UsageTracker tracker = UsageTracker.create(store, config);
        Map<Integer, Limit> tokens = new LinkedHashMap<>();
        for (int k = 0; k < KEYS; k++) {
            Decision decision = resolver.check(request(k));
            assertThat(decision.allowed()).isTrue();
            tokens.put(k, decision.limits().stream().map(LimitUsage::limit)
                    .filter(limit -> limit.metric() == Metric.TOKENS).findFirst().orElseThrow());
        }
        long[] expected = new long[KEYS];
        List<RedisClusterFixture.Node> masters = cluster.masters();
        for (int m = 0; m < masters.size(); m++) {
            for (int k = 0; k < KEYS; k++) {
                charge(tracker, k, "flushed-" + m + "-" + k, 1_000);
                expected[k] += 1_000;
            }
            flusher.flushNow();
            for (int k = 0; k < KEYS; k++) {
                charge(tracker, k, "unflushed-" + m + "-" + k, 10 + k);
                expected[k] += 10 + k;
            }
            long lossesBefore = store.stats().dataLosses();
            cluster.command(masters.get(m), "FLUSHALL");
            // the next call on a key of the emptied master finds the loss
            for (int k = 0; k < KEYS; k++) {
                resolver.check(request(k));
            }
            Fixtures.await("master " + m + "'s loss reported and replayed", Duration.ofSeconds(30),
                    () -> store.stats().dataLosses() == lossesBefore + 1 && store.stats().buffered() == 0);
            List<String> wrong = new ArrayList<>();
            for (int k = 0; k < KEYS; k++) {
                long used = store.read(List.of(tokens.get(k))).toCompletableFuture().join().get(0).used();
                if (used != expected[k]) {
                    wrong.add("vk-" + k + ": " + used + " instead of " + expected[k]);
                }
            }
            System.out.printf("master %d of %d emptied: %d losses reported so far, %d charges acknowledged since the "
                    + "last flush, %d counters wrong%n", m + 1, masters.size(), store.stats().dataLosses(), KEYS,
                    wrong.size());
            assertThat(wrong).as("after emptying master %d", m).isEmpty();
        }
    }

    private static void charge(UsageTracker tracker, int key, String requestId, long amount) {
        tracker.charge(UsageUpdate.builder().virtualKey(secret(key)).requestId(requestId).tokens(amount).build());
    }

    private static CheckRequest request(int key) {
        return CheckRequest.builder().virtualKey(secret(key)).build();
    }

    private static String secret(int key) {
        return "sk-cluster-loss-" + key;
    }
}
