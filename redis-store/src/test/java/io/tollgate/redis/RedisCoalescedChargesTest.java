package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import static io.tollgate.redis.TestStores.failureOf;
import static io.tollgate.redis.TestStores.join;
import static org.assertj.core.api.Assertions.assertThat;

/** Charges of one tag coalesced into one script call: each counted once, each answered on its own. */
class RedisCoalescedChargesTest {

    private static final WindowSpec HOUR = WindowSpec.rolling(ResetPeriod.parse("1h"));
    private static final Limit TEAM = new Limit(Holder.team("t"), Metric.TOKENS, Long.MAX_VALUE, HOUR);
    private static final Limit KEY = new Limit(Holder.virtualKey("k"), Metric.TOKENS, Long.MAX_VALUE, HOUR);

    private RedisFixture server;
    private RedisClient client;

    @BeforeEach
    void start() {
        // the script calls are counted: a server of this test's own
        server = RedisFixture.start();
        client = RedisClient.create(server.uri());
    }

    @AfterEach
    void stop() {
        RedisFixture.shutdown(client);
        server.close();
    }

    @Test
    void sixteenThreadsChargingTogetherAreEachCountedOnceInFewerCalls() throws Exception {
        int threads = 16;
        int perThread = 300;
        AtomicLong duplicates = new AtomicLong();
        try (RedisGovernanceStore store = TestStores.store(client, RedisStoreOptions.builder()
                .coalesceCharges(Duration.ofMillis(2), 16).commandTimeout(Duration.ofSeconds(5)))) {
            join(store.charge("warm-up", List.of(CounterOp.add(TEAM, 0))));
            long callsBefore = chargeCalls();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                workers.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < perThread; i++) {
                        String request = "r-" + thread + "-" + i;
                        List<CounterOp> ops = List.of(CounterOp.add(TEAM, 3), CounterOp.add(KEY, 1));
                        assertThat(join(store.charge(request, ops))).isEqualTo(ChargeResult.APPLIED);
                        if (i % 10 == 0) {
                            assertThat(join(store.charge(request, ops))).isEqualTo(ChargeResult.DUPLICATE);
                            duplicates.incrementAndGet();
                        }
                    }
                }, pool));
            }
            CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).join();
            pool.shutdown();
            long calls = chargeCalls() - callsBefore;
            long charges = (long) threads * perThread + duplicates.get();
            System.out.println("coalesced charges: " + charges + " charges in " + calls + " script calls");

            assertThat(join(store.read(List.of(TEAM, KEY)))).extracting(state -> state.used())
                    .containsExactly(3L * threads * perThread, (long) threads * perThread);
            assertThat(calls).as("fewer calls than charges").isLessThan(charges);
        }
    }

    @Test
    void aChargeThatOverflowsInABatchFailsAloneAndTheOthersApply() {
        try (RedisGovernanceStore store = TestStores.store(client, RedisStoreOptions.builder()
                .coalesceCharges(Duration.ofMillis(50), 16))) {
            join(store.charge("fill", List.of(CounterOp.add(TEAM, Long.MAX_VALUE - 10))));

            CompletableFuture<ChargeResult> overflowing = store.charge("too-much", List.of(CounterOp.add(TEAM, 11)))
                    .toCompletableFuture();
            CompletableFuture<ChargeResult> fitting = store.charge("fits", List.of(CounterOp.add(KEY, 5)))
                    .toCompletableFuture();

            assertThat(failureOf(() -> overflowing)).isInstanceOf(ArithmeticException.class)
                    .hasMessageContaining("overflow");
            assertThat(join(fitting)).isEqualTo(ChargeResult.APPLIED);
            assertThat(join(store.read(List.of(TEAM, KEY)))).extracting(state -> state.used())
                    .containsExactly(Long.MAX_VALUE - 10, 5L);
        }
    }

    @Test
    void oneChargeSentTwiceInABatchCountsOnceAndASettleAmongPlainChargesGivesItsEstimateBackExactly() {
        try (RedisGovernanceStore store = TestStores.store(client, RedisStoreOptions.builder()
                .coalesceCharges(Duration.ofMillis(50), 16))) {
            String lease = join(store.reserve(List.of(CounterOp.hold(TEAM, 100)))).lease();
            join(store.charge("before", List.of(CounterOp.add(TEAM, 7))));

            List<CompletableFuture<ChargeResult>> batch = List.of(
                    store.charge("twice", List.of(CounterOp.add(KEY, 1))).toCompletableFuture(),
                    store.charge("twice", List.of(CounterOp.add(KEY, 1))).toCompletableFuture(),
                    store.charge("plain", List.of(CounterOp.add(TEAM, 5), CounterOp.add(KEY, 2)))
                            .toCompletableFuture(),
                    store.charge("settles", CounterOps.of(List.of(TEAM), new long[] {30}, new long[1])
                            .settling(lease)).toCompletableFuture(),
                    store.charge("after", List.of(CounterOp.add(TEAM, 1))).toCompletableFuture());

            assertThat(batch.stream().map(TestStores::join).toList()).containsExactly(ChargeResult.APPLIED,
                    ChargeResult.DUPLICATE, ChargeResult.APPLIED, ChargeResult.APPLIED, ChargeResult.APPLIED);
            assertThat(join(store.read(List.of(TEAM, KEY)))).extracting(state -> state.used())
                    .as("7 + 5 + 30 + 1, the estimate of 100 given back; 1 + 2").containsExactly(43L, 3L);
        }
    }

    /** The script calls Redis has run for charges: EVALSHA, which every charge and batch of charges is. */
    private long chargeCalls() {
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            return TestStores.scriptCalls(connection.sync());
        }
    }
}
