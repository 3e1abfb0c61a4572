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
import io.tollgate.spi.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.tollgate.redis.TestStores.failureOf;
import static io.tollgate.redis.TestStores.join;
import static io.tollgate.redis.TestStores.reserve;
import static org.assertj.core.api.Assertions.assertThat;

/** Charges of one tag coalesced into one script call: each counted once, each answered on its own. */
class RedisCoalescedChargesTest {

    private static final WindowSpec HOUR = WindowSpec.rolling(ResetPeriod.parse("1h"));
    private static final Limit TEAM = new Limit(Holder.team("t"), Metric.TOKENS, Long.MAX_VALUE, HOUR);
    private static final Limit KEY = new Limit(Holder.virtualKey("k"), Metric.TOKENS, Long.MAX_VALUE, HOUR);
    /** The counter of {@link #lead}'s charge, which no other charge names. */
    private static final Limit LEAD = new Limit(Holder.virtualKey("lead"), Metric.TOKENS, Long.MAX_VALUE, HOUR);

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

            CompletableFuture<ChargeResult> lead = lead(store);
            CompletableFuture<ChargeResult> overflowing = store.charge("too-much", List.of(CounterOp.add(TEAM, 11)))
                    .toCompletableFuture();
            CompletableFuture<ChargeResult> fitting = store.charge("fits", List.of(CounterOp.add(KEY, 5)))
                    .toCompletableFuture();

            assertThat(failureOf(() -> overflowing)).isInstanceOf(ArithmeticException.class)
                    .hasMessageContaining("overflow");
            assertThat(join(fitting)).isEqualTo(ChargeResult.APPLIED);
            assertThat(join(lead)).isEqualTo(ChargeResult.APPLIED);
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

            CompletableFuture<ChargeResult> lead = lead(store);
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
            assertThat(join(lead)).isEqualTo(ChargeResult.APPLIED);
            assertThat(join(store.read(List.of(TEAM, KEY)))).extracting(state -> state.used())
                    .as("7 + 5 + 30 + 1, the estimate of 100 given back; 1 + 2").containsExactly(43L, 3L);
        }
    }

    @Test
    void aRunWithAChargeSeenBeforeAnswersItAsADuplicateAndSendsTheOthersAgainEachCountedOnce() {
        try (RedisGovernanceStore store = TestStores.store(client, RedisStoreOptions.builder()
                .coalesceCharges(Duration.ofMillis(50), 16))) {
            List<CounterOp> ops = List.of(CounterOp.add(TEAM, 3), CounterOp.add(KEY, 1));
            assertThat(join(store.charge("seen", ops))).isEqualTo(ChargeResult.APPLIED);
            long callsBefore = chargeCalls();

            CompletableFuture<ChargeResult> lead = lead(store);
            List<CompletableFuture<ChargeResult>> batch = List.of(store.charge("new-1", ops).toCompletableFuture(),
                    store.charge("seen", ops).toCompletableFuture(), store.charge("new-2", ops).toCompletableFuture());

            assertThat(batch.stream().map(TestStores::join).toList())
                    .containsExactly(ChargeResult.APPLIED, ChargeResult.DUPLICATE, ChargeResult.APPLIED);
            assertThat(join(lead)).isEqualTo(ChargeResult.APPLIED);
            assertThat(chargeCalls() - callsBefore).as("the lead, the run (not applied), then the two others together")
                    .isEqualTo(3);
            assertThat(join(store.read(List.of(TEAM, KEY)))).extracting(state -> state.used())
                    .containsExactly(9L, 3L);
        }
    }

    @Test
    void anOverflowInARunTakesBackWhatTheRunAddedToItsOtherCounters() {
        try (RedisGovernanceStore store = TestStores.store(client, RedisStoreOptions.builder()
                .coalesceCharges(Duration.ofMillis(50), 16))) {
            join(store.charge("fill", List.of(CounterOp.add(TEAM, Long.MAX_VALUE - 10))));

            // one run: KEY comes first, so it was added to when TEAM overflowed
            CompletableFuture<ChargeResult> lead = lead(store);
            CompletableFuture<ChargeResult> overflowing = store.charge("too-much",
                    List.of(CounterOp.add(KEY, 1), CounterOp.add(TEAM, 11))).toCompletableFuture();
            CompletableFuture<ChargeResult> fitting = store.charge("fits",
                    List.of(CounterOp.add(KEY, 2), CounterOp.add(TEAM, 0))).toCompletableFuture();

            assertThat(failureOf(() -> overflowing)).isInstanceOf(ArithmeticException.class);
            assertThat(join(fitting)).isEqualTo(ChargeResult.APPLIED);
            assertThat(join(lead)).isEqualTo(ChargeResult.APPLIED);
            assertThat(join(store.read(List.of(KEY, TEAM)))).extracting(state -> state.used())
                    .containsExactly(2L, Long.MAX_VALUE - 10);
        }
    }

    @Test
    void aRunCreatesItsCountersWithTheirWindowsExpiryAndAddsSumsTooLongForADoubleExactly() {
        Limit minute = new Limit(Holder.team("m"), Metric.TOKENS, Long.MAX_VALUE,
                WindowSpec.rolling(ResetPeriod.parse("1m")));
        Limit large = new Limit(Holder.customer("big"), Metric.COST, Long.MAX_VALUE, HOUR);
        try (RedisGovernanceStore store = TestStores.store(client, RedisStoreOptions.builder().keyPrefix("runs")
                .coalesceCharges(Duration.ofMillis(50), 16))) {
            List<CompletableFuture<ChargeResult>> batch = new ArrayList<>(List.of(lead(store)));
            for (int i = 0; i < 3; i++) {
                batch.add(store.charge("small-" + i, List.of(CounterOp.add(minute, 5))).toCompletableFuture());
                batch.add(store.charge("large-" + i, List.of(CounterOp.add(large, 4_000_000_000_000_001L)))
                        .toCompletableFuture());
            }
            assertThat(batch.stream().map(TestStores::join).toList()).containsOnly(ChargeResult.APPLIED);

            assertThat(join(store.read(List.of(minute, large)))).extracting(state -> state.used())
                    .containsExactly(15L, 12_000_000_000_000_003L);
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                for (String holder : List.of("team:m", "customer:big")) {
                    List<String> keys = TestStores.scan(connection.sync(), "runs:v2:c:*" + holder + ":*");
                    assertThat(keys).hasSize(1);
                    assertThat(connection.sync().pttl(keys.get(0))).as(keys.get(0)).isPositive();
                }
            }
        }
    }

    @Test
    void aRunGivesBackADueLeaseFirstAndTellsTheFlusherOfTheCountersItGaveBackTo() {
        TestClock clock = new TestClock(Instant.parse("2030-01-01T00:00:30Z"));
        Limit held = new Limit(Holder.virtualKey("crashed"), Metric.TOKENS, 1_000, HOUR);
        try (RedisGovernanceStore store = TestStores.store(client, RedisStoreOptions.builder().testTimeSource(clock)
                .leaseDuration(Duration.ofSeconds(10)).coalesceCharges(Duration.ofMillis(50), 16))) {
            assertThat(reserve(store, CounterOp.hold(held, 600)).lease()).isNotNull();
            store.changes();
            // the lead takes the store time before the lease is due, so the run is what gives it back
            CompletableFuture<ChargeResult> lead = lead(store);
            clock.advance(Duration.ofSeconds(11));

            List<CompletableFuture<ChargeResult>> batch = List.of(
                    store.charge("a", List.of(CounterOp.add(TEAM, 5))).toCompletableFuture(),
                    store.charge("b", List.of(CounterOp.add(TEAM, 5))).toCompletableFuture());
            assertThat(join(lead)).isEqualTo(ChargeResult.APPLIED);

            assertThat(batch.stream().map(TestStores::join).toList()).containsOnly(ChargeResult.APPLIED);
            assertThat(join(store.read(List.of(held, TEAM)))).extracting(state -> state.used())
                    .containsExactly(0L, 10L);
            assertThat(store.changes().counters()).anySatisfy(snapshot -> {
                assertThat(snapshot.counter()).isEqualTo(held.counterId());
                assertThat(snapshot.value()).isZero();
            });
        }
    }

    @Test
    void aChargeOfAnIdleTagGoesAtOnceAndThoseThatFindItInFlightGoTogetherAfter() throws Exception {
        try (RedisGovernanceStore store = TestStores.store(client, RedisStoreOptions.builder()
                .coalesceCharges(Duration.ofMillis(100), 16))) {
            long callsBefore = chargeCalls();

            List<CompletableFuture<ChargeResult>> charges = new ArrayList<>(List.of(lead(store)));
            for (int i = 0; i < 5; i++) {
                charges.add(store.charge("waits-" + i, List.of(CounterOp.add(TEAM, 2), CounterOp.add(KEY, 1)))
                        .toCompletableFuture());
            }
            for (CompletableFuture<ChargeResult> charge : charges) {
                assertThat(charge.get(30, TimeUnit.SECONDS)).isEqualTo(ChargeResult.APPLIED);
            }

            assertThat(chargeCalls() - callsBefore).as("the lead, then the five together").isEqualTo(2);
            assertThat(join(store.read(List.of(TEAM, KEY, LEAD)))).extracting(state -> state.used())
                    .containsExactly(10L, 5L, 1L);
        }
    }

    /**
     * Sends one charge of the tag while Redis is paused for a moment, so that it is in flight for the charges sent
     * next: they wait for it, or for their window, and go together.
     */
    private CompletableFuture<ChargeResult> lead(RedisGovernanceStore store) {
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            connection.sync().clientPause(150);
        }
        return store.charge("lead", List.of(CounterOp.add(LEAD, 1))).toCompletableFuture();
    }

    /** The script calls Redis has run for charges: EVALSHA, which every charge and batch of charges is. */
    private long chargeCalls() {
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            return TestStores.scriptCalls(connection.sync());
        }
    }
}
