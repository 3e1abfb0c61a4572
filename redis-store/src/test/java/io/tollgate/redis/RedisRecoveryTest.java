package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.StoreException;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.ReserveResult;
import io.tollgate.spi.SnapshotSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.tollgate.redis.TestStores.join;
import static io.tollgate.redis.TestStores.redisTime;
import static io.tollgate.redis.TestStores.reserve;
import static org.assertj.core.api.Assertions.assertThat;

/** Redis forgetting things: its scripts (SCRIPT FLUSH, a restart) or its data (FLUSHALL, a restart). */
class RedisRecoveryTest {

    private static final WindowSpec HOUR = WindowSpec.rolling(ResetPeriod.parse("1h"));
    private static final Limit REQUESTS = new Limit(Holder.virtualKey("vk"), Metric.REQUESTS, 5, HOUR);
    private static final Limit TOKENS = new Limit(Holder.team("team"), Metric.TOKENS, 1_000, HOUR);

    private RedisFixture server;
    private RedisClient client;
    private StatefulRedisConnection<String, String> admin;
    private RedisCommands<String, String> redis;

    @BeforeEach
    void start() {
        // FLUSHALL, SCRIPT FLUSH and restarts hit the whole server: a server of this test's own
        server = RedisFixture.start();
        client = RedisClient.create(server.uri());
        admin = client.connect();
        redis = admin.sync();
    }

    @AfterEach
    void stop() {
        admin.close();
        RedisFixture.shutdown(client);
        server.close();
    }

    @Test
    void scriptsAreLoadedAgainAfterScriptFlush() {
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client).build()) {
            assertThat(reserve(store, CounterOp.take(REQUESTS, 1)).admitted()).isTrue();
            redis.scriptFlush();
            redis.configResetstat();

            ReserveResult again = reserve(store, CounterOp.take(REQUESTS, 1));
            assertThat(again.admitted()).isTrue();
            assertThat(again.counters().get(0).used()).isEqualTo(1);
            assertThat(join(store.charge("r1", List.of(CounterOp.add(TOKENS, 7))))).isEqualTo(ChargeResult.APPLIED);
            assertThat(join(store.read(List.of(TOKENS)))).singleElement()
                    .satisfies(state -> assertThat(state.used()).isEqualTo(7));
            String stats = redis.info("commandstats");
            assertThat(stats).contains("cmdstat_script|load:calls=");
            assertThat(stats).containsPattern("cmdstat_evalsha:calls=\\d+,.*failed_calls=[1-9]");
        }
    }

    @Test
    void afterFlushallCountersAreRestoredFromSnapshotsBeforeAnyDecision() {
        List<CounterSnapshot> persisted = new CopyOnWriteArrayList<>();
        List<Instant> asked = new CopyOnWriteArrayList<>();
        SnapshotSource source = now -> {
            asked.add(now);
            return List.copyOf(persisted);
        };
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().snapshotSource(source).build()).build()) {
            for (int i = 0; i < 3; i++) {
                assertThat(reserve(store, CounterOp.take(REQUESTS, 1)).admitted()).isTrue();
            }
            join(store.charge("r1", List.of(CounterOp.add(TOKENS, 40))));
            persisted.addAll(store.changes().counters());
            assertThat(persisted).hasSize(2);
            asked.clear();

            redis.flushall();
            long lost = redisTime(redis);
            // many callers find the data gone at once: one restore serves them all
            List<CompletableFuture<ReserveResult>> calls = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                calls.add(store.reserve(List.of(CounterOp.take(REQUESTS, 0), CounterOp.take(TOKENS, 0)))
                        .toCompletableFuture());
            }
            for (CompletableFuture<ReserveResult> call : calls) {
                assertThat(join(call).counters()).extracting(s -> s.used()).containsExactly(3L, 40L);
            }
            assertThat(asked).singleElement()
                    .satisfies(now -> assertThat(now.toEpochMilli()).isBetween(lost, redisTime(redis)));

            assertThat(reserve(store, CounterOp.take(REQUESTS, 1)).admitted()).isTrue();
            assertThat(reserve(store, CounterOp.take(REQUESTS, 1)).admitted()).isTrue();
            ReserveResult full = reserve(store, CounterOp.take(REQUESTS, 1));
            assertThat(full.admitted()).isFalse();
            assertThat(full.counters().get(0).used()).isEqualTo(5);
            assertThat(store.changes().counters()).extracting(s -> s.value()).containsExactlyInAnyOrder(5L, 40L);
        }
    }

    @Test
    void afterFlushallWithoutASnapshotSourceCountersStartAgain() {
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client).build()) {
            reserve(store, CounterOp.take(REQUESTS, 4));
            redis.flushall();
            ReserveResult after = reserve(store, CounterOp.take(REQUESTS, 1));
            assertThat(after.admitted()).isTrue();
            assertThat(after.counters().get(0).used()).isZero();
            assertThat(redis.exists("tollgate:v2:{tg}:epoch")).isEqualTo(1);
        }
    }

    @Test
    void aDuplicateChargeIsNotAppliedTwiceAcrossARestore() {
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client).build()) {
            redis.flushall();
            assertThat(join(store.charge("r1", List.of(CounterOp.add(TOKENS, 9))))).isEqualTo(ChargeResult.APPLIED);
            assertThat(join(store.charge("r1", List.of(CounterOp.add(TOKENS, 9))))).isEqualTo(ChargeResult.DUPLICATE);
            assertThat(join(store.read(List.of(TOKENS))).get(0).used()).isEqualTo(9);
        }
    }

    @Test
    void aRestartedRedisWithoutPersistenceIsRestoredOnceItAnswersAgain() throws InterruptedException {
        List<CounterSnapshot> persisted = new CopyOnWriteArrayList<>();
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().snapshotSource(now -> List.copyOf(persisted))
                        .commandTimeout(Duration.ofSeconds(1)).build()).build()) {
            reserve(store, CounterOp.take(REQUESTS, 4));
            persisted.addAll(store.changes().counters());

            server.kill();
            assertThat(TestStores.failureOf(() -> store.reserve(List.of(CounterOp.take(REQUESTS, 1)))))
                    .isInstanceOf(StoreException.class);
            server.restart();

            ReserveResult after = firstAnswer(store);
            assertThat(after.admitted()).isTrue();
            assertThat(after.counters().get(0).used()).isEqualTo(4);
            assertThat(reserve(store, CounterOp.take(REQUESTS, 1)).admitted()).isFalse();
        }
    }

    @Test
    void aStoreBuiltWhileRedisIsDownFailsAtOnceThenConnectsAndRestoresWhenRedisStarts() throws InterruptedException {
        List<CounterSnapshot> persisted = new CopyOnWriteArrayList<>();
        try (RedisGovernanceStore before = RedisGovernanceStore.builder(client).build()) {
            reserve(before, CounterOp.take(REQUESTS, 3));
            persisted.addAll(before.changes().counters());
        }
        server.kill();

        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().snapshotSource(now -> List.copyOf(persisted))
                        .commandTimeout(Duration.ofSeconds(1)).build()).build()) {
            CompletableFuture<ReserveResult> whileDown = store.reserve(List.of(CounterOp.take(REQUESTS, 1)))
                    .toCompletableFuture();
            assertThat(whileDown).as("failed at once, not after the command timeout").isCompletedExceptionally();
            assertThat(TestStores.failureOf(() -> whileDown)).isInstanceOf(StoreException.class)
                    .hasMessageContaining("connect");

            server.restart();
            ReserveResult after = firstAnswer(store);
            assertThat(after.admitted()).isTrue();
            assertThat(after.counters().get(0).used()).as("restored from the snapshot before this call").isEqualTo(3);
            assertThat(join(store.read(List.of(REQUESTS))).get(0).used()).isEqualTo(4);
        }
    }

    /**
     * The first reservation of one request that Redis answers, tried for up to 20 s: until the store is connected again
     * (Lettuce reconnects on its own, a store built while Redis was down connects in the background), calls fail.
     */
    private static ReserveResult firstAnswer(RedisGovernanceStore store) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                return store.reserve(List.of(CounterOp.take(REQUESTS, 1))).toCompletableFuture().join();
            } catch (RuntimeException e) {
                assertThat(e).hasCauseInstanceOf(StoreException.class);
                Thread.sleep(50);
            }
        }
        throw new AssertionError("Redis did not answer within 20 s of starting");
    }
}
