package io.tollgate.jdbc;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.RateLimit;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.jdbc.testing.Rows;
import io.tollgate.jdbc.testing.TestDatabase;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.testing.RedisFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshots hold the true usage, the latest value of each counter, on a real Redis and a real MariaDB: an estimate a
 * charge gave back never survives in them, also when several replicas flush at once, and a restore after a data loss
 * brings back what was used.
 */
class SnapshotTruthTest {

    private static final String SECRET = "sk-snapshot-truth";
    /** Windows that never end, so that no boundary can pass during a test. */
    private static final GovernanceConfig CONFIG = GovernanceConfig.builder()
            .virtualKey(VirtualKey.builder("vk-truth").secret(SECRET)
                    .rateLimit(RateLimit.builder().tokens(10_000, WindowSpec.unbounded()).build()).build())
            .build();

    private static TestDatabase db;
    private static RedisFixture redis;
    private RedisClient client;
    private StatefulRedisConnection<String, String> admin;

    @BeforeAll
    static void startServers() {
        db = TestDatabase.create(SnapshotTruthTest.class);
        TollgateSchema.migrate(db.dataSource());
        redis = RedisFixture.start(); // a server of its own: FLUSHALL empties the whole server
    }

    @AfterAll
    static void stopServers() {
        if (redis != null) {
            redis.close();
        }
        db.close();
    }

    @BeforeEach
    void connect() {
        client = redis.newClient();
        admin = client.connect();
        admin.sync().flushall();
        Rows.execute(db.dataSource(), "DELETE FROM tollgate_usage_snapshot");
    }

    @AfterEach
    void disconnect() {
        admin.close();
        RedisFixture.shutdown(client);
    }

    @Test
    void anEstimateGivenBackLeavesTheSnapshotAndARestoreBringsBackWhatWasUsed() {
        try (RedisGovernanceStore store = store()) {
            BudgetResolver resolver = BudgetResolver.create(store, CONFIG);
            UsageTracker tracker = UsageTracker.create(store, CONFIG);
            SnapshotFlusher flusher = SnapshotFlusher.builder(store, db.dataSource()).build();

            Decision checked = resolver.check(request(9_000));
            assertThat(checked.allowed()).isTrue();
            flusher.flushNow();
            assertThat(tokens(Counters.rows(db.dataSource()))).isEqualTo(9_000);

            tracker.charge(UsageUpdate.builder().virtualKey(SECRET).tokens(100).requestId("r1")
                    .reservation(checked.reservation().orElseThrow()).build());
            flusher.flushNow();
            assertThat(tokens(Counters.rows(db.dataSource()))).isEqualTo(100);

            admin.sync().flushall();
            Decision after = resolver.check(request(9_900));
            assertThat(after.allowed()).as("100 of 10,000 used after the restore: 9,900 fit").isTrue();
            assertThat(after.limits().get(0).used()).isEqualTo(100);
        }
    }

    @Test
    void threeReplicasFlushingWhileEstimatesAreGivenBackLeaveTheTrueUsageInTheSnapshots() throws Exception {
        List<RedisGovernanceStore> stores = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<SnapshotFlusher> flushers = new ArrayList<>();
            for (int replica = 0; replica < 3; replica++) {
                RedisGovernanceStore store = store();
                stores.add(store);
                flushers.add(SnapshotFlusher.builder(store, db.dataSource()).build());
            }
            AtomicBoolean running = new AtomicBoolean(true);
            List<Future<?>> work = new ArrayList<>();
            for (int replica = 0; replica < 3; replica++) {
                RedisGovernanceStore store = stores.get(replica);
                SnapshotFlusher flusher = flushers.get(replica);
                int id = replica;
                work.add(pool.submit(() -> {
                    BudgetResolver resolver = BudgetResolver.create(store, CONFIG);
                    UsageTracker tracker = UsageTracker.create(store, CONFIG);
                    for (int i = 0; i < 300; i++) {
                        Decision checked = resolver.check(request(20));
                        if (checked.allowed()) {
                            tracker.charge(UsageUpdate.builder().virtualKey(SECRET).tokens(1)
                                    .requestId("r" + id + "-" + i).reservation(checked.reservation().orElseThrow())
                                    .build());
                        }
                    }
                    return null;
                }));
                work.add(pool.submit(() -> {
                    while (running.get()) {
                        flusher.flushNow();
                    }
                    return null;
                }));
            }
            for (int i = 0; i < work.size(); i += 2) {
                work.get(i).get(2, TimeUnit.MINUTES);
            }
            running.set(false);
            for (Future<?> flushing : work) {
                flushing.get(2, TimeUnit.MINUTES);
            }
            // once traffic stops, each replica's last read is the latest, whichever write lands last
            for (SnapshotFlusher flusher : flushers) {
                flusher.flushNow();
            }
            Limit tokens = new Limit(Holder.virtualKey("vk-truth"), Metric.TOKENS, 10_000, WindowSpec.unbounded());
            long live = stores.get(0).read(List.of(tokens)).toCompletableFuture().join().get(0).used();
            assertThat(live).isEqualTo(900);
            assertThat(tokens(Counters.rows(db.dataSource()))).isEqualTo(900);
            assertThat(tokens(Counters.keyed(JdbcSnapshotSource.create(db.dataSource())
                    .currentSnapshots(Instant.now())))).isEqualTo(900);
        } finally {
            pool.shutdownNow();
            stores.forEach(RedisGovernanceStore::close);
        }
    }

    private RedisGovernanceStore store() {
        return RedisGovernanceStore.builder(client).options(RedisStoreOptions.builder()
                .snapshotSource(JdbcSnapshotSource.create(db.dataSource())).build()).build();
    }

    private static CheckRequest request(long estimatedTokens) {
        return CheckRequest.builder().virtualKey(SECRET).estimatedTokens(estimatedTokens).build();
    }

    /** The one token counter's value among keyed snapshot values. */
    private static long tokens(Map<String, Long> values) {
        return values.entrySet().stream().filter(entry -> entry.getKey().contains("|" + Metric.TOKENS + "|"))
                .mapToLong(Map.Entry::getValue).reduce((a, b) -> {
                    throw new AssertionError("more than one token counter: " + values);
                }).orElseThrow(() -> new AssertionError("no token counter in " + values));
    }
}
