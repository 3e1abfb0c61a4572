package io.tollgate;

import io.tollgate.internal.LimitResolver;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.ReserveResult;
import io.tollgate.spi.TestClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Streamed answers charged chunk by chunk, against the in-memory store. */
class UsageStreamTest {

    private static final String SECRET = "sk-stream-1";
    private static final Money ESTIMATED_COST = Money.parse("1");
    /** A guard against a hung test, not a timing assertion. */
    private static final long PATIENCE_SECONDS = 60;

    private final TestClock clock = new TestClock(Instant.parse("2027-03-10T10:30:00Z"));
    private final RecordingStore store = new RecordingStore(InMemoryGovernanceStore.builder().clock(clock).build());

    private static GovernanceConfig config(long inFlight) {
        return GovernanceConfig.builder()
                .virtualKey(VirtualKey.builder("vk-stream").secret(SECRET)
                        .rateLimit(RateLimit.builder().requests(100, "1h").tokens(10_000, "1h").inFlight(inFlight)
                                .build())
                        .budget(Budget.rolling(Money.parse("10"), "1h"))
                        .build())
                .build();
    }

    private final GovernanceConfig config = config(1);
    private final BudgetResolver resolver = BudgetResolver.create(store, () -> config, clock);
    private final UsageTracker tracker = UsageTracker.create(store, config);
    private final List<Limit> keyLimits = new LimitResolver(config)
            .limits(config.virtualKeyByHash(VirtualKey.hashSecret(SECRET)).orElseThrow(), null, null, null);

    private Decision check() {
        return resolver.check(CheckRequest.builder().virtualKey(SECRET).provider("openai").model("gpt-4o")
                .estimatedTokens(500).estimatedCost(ESTIMATED_COST).build());
    }

    /** The value of the key's counter of {@code metric}, read from the store. */
    private long used(Metric metric) {
        Limit limit = keyLimits.stream().filter(each -> each.metric() == metric).findFirst().orElseThrow();
        return store.read(List.of(limit)).toCompletableFuture().join().get(0).used();
    }

    @Test
    void aStreamOfThreeChunksWhoseLastAloneCarriesUsageChargesItOnceAndGivesTheEstimateBack() {
        Decision decision = check();
        assertThat(decision.allowed()).isTrue();
        assertThat(used(Metric.TOKENS)).as("estimate held").isEqualTo(500);
        assertThat(used(Metric.COST)).as("estimate held").isEqualTo(ESTIMATED_COST.nanos());

        try (UsageStream stream = tracker.openStream(decision, "req-1")) {
            assertThat(stream.charge(0, Money.ZERO)).isEqualTo(ChargeOutcome.NOTHING_TO_CHARGE);
            assertThat(stream.charge(0, Money.ZERO)).isEqualTo(ChargeOutcome.NOTHING_TO_CHARGE);
            assertThat(used(Metric.TOKENS)).as("estimate still held mid-stream").isEqualTo(500);

            assertThat(stream.finish(42, Money.parse("0.0042"))).isEqualTo(ChargeOutcome.CHARGED);
            assertThat(stream.chunkCount()).isEqualTo(3);
            assertThat(stream.ended()).isTrue();
        }

        assertThat(used(Metric.TOKENS)).isEqualTo(42);
        assertThat(used(Metric.COST)).isEqualTo(Money.parse("0.0042").nanos());
        assertThat(used(Metric.REQUESTS)).as("counted at check time only").isEqualTo(1);
        assertThat(used(Metric.IN_FLIGHT)).isZero();
        // chunks without usage never reached the store; the try block's close added nothing
        assertThat(store.charged).containsExactly("req-1#2");
    }

    @Test
    void chunksThatCarryUsageAreChargedAsTheyPassAndTheLastOneSettles() {
        Decision decision = check();
        UsageStream stream = tracker.openStream(decision, "req-1");

        assertThat(stream.charge(10, Money.parse("0.01"))).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(used(Metric.TOKENS)).as("estimate and first chunk").isEqualTo(510);
        assertThat(stream.charge(5, Money.parse("0.02"))).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(stream.finish()).isEqualTo(ChargeOutcome.CHARGED);

        assertThat(used(Metric.TOKENS)).isEqualTo(15);
        assertThat(used(Metric.COST)).isEqualTo(Money.parse("0.03").nanos());
        assertThat(used(Metric.IN_FLIGHT)).isZero();
        assertThat(store.charged).containsExactly("req-1#0", "req-1#1", "req-1#2");
    }

    @Test
    void closingAStreamThatWasNotFinishedSettlesItOnceAndFreesItsInFlightPlace() {
        Decision first = check();
        assertThat(first.allowed()).isTrue();
        assertThat(check().outcome()).as("one in flight at most").isEqualTo(Outcome.IN_FLIGHT_LIMITED);

        UsageStream stream = tracker.openStream(first, "req-1");
        stream.charge(7, Money.parse("0.5"));
        stream.close();

        assertThat(stream.ended()).isTrue();
        assertThat(used(Metric.TOKENS)).as("what was charged, the estimate given back").isEqualTo(7);
        assertThat(used(Metric.COST)).isEqualTo(Money.parse("0.5").nanos());
        assertThat(used(Metric.IN_FLIGHT)).isZero();
        assertThat(check().allowed()).as("the place is free again").isTrue();
        assertThat(store.charged).containsExactly("req-1#0", "req-1#1");
    }

    @Test
    void closingTwiceDoesNothingTheSecondTime() {
        UsageStream stream = tracker.openStream(check(), "req-1");
        stream.close();
        Decision next = check();
        assertThat(next.allowed()).isTrue();

        stream.close();
        stream.closeAsync().toCompletableFuture().join();

        assertThat(used(Metric.IN_FLIGHT)).as("the next request keeps its place").isEqualTo(1);
        assertThat(check().outcome()).isEqualTo(Outcome.IN_FLIGHT_LIMITED);
        assertThat(store.charged).containsExactly("req-1#0");
    }

    @Test
    void closingAFinishedStreamDoesNothing() {
        UsageStream stream = tracker.openStream(check(), "req-1");
        stream.finish(3, Money.ZERO);
        stream.close();

        assertThat(store.charged).containsExactly("req-1#0");
        assertThat(used(Metric.TOKENS)).isEqualTo(3);
    }

    @Test
    void aChunkAfterTheEndIsRefusedAndChargesNothing() {
        UsageStream stream = tracker.openStream(check(), "req-7");
        stream.charge(4, Money.ZERO);
        stream.close();

        assertThatThrownBy(() -> stream.charge(1, Money.ZERO)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("req-7").hasMessageContaining("ended");
        assertThatThrownBy(() -> stream.chargeAsync(1, Money.ZERO)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(stream::finish).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot finish");
        assertThatThrownBy(() -> stream.finishAsync(1, Money.ZERO)).isInstanceOf(IllegalStateException.class);
        assertThat(used(Metric.TOKENS)).isEqualTo(4);
        assertThat(store.charged).containsExactly("req-7#0", "req-7#1");
    }

    @Test
    void aStreamFinishesOnce() {
        UsageStream stream = tracker.openStream(check(), "req-1");
        stream.finish(1, Money.ZERO);

        assertThatThrownBy(() -> stream.finish(1, Money.ZERO)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("req-1");
        assertThat(used(Metric.TOKENS)).isEqualTo(1);
    }

    @Test
    void aDeniedDecisionOpensNoStream() {
        check();
        Decision denied = check();
        assertThat(denied.allowed()).isFalse();

        assertThatThrownBy(() -> tracker.openStream(denied, "req-2")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("decision").hasMessageContaining("IN_FLIGHT_LIMITED");
        assertThat(store.charged).isEmpty();
    }

    @Test
    void anAllowedDecisionWithoutAReservationOpensNoStream() {
        Decision madeUp = new Decision(Outcome.ALLOWED, List.of(), null, null, clock.instant(), null);
        assertThatThrownBy(() -> tracker.openStream(madeUp, "req-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no reservation");
    }

    @Test
    void aBlankRequestIdOpensNoStream() {
        Decision decision = check();
        assertThatThrownBy(() -> tracker.openStream(decision, " ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("requestId");
        assertThatThrownBy(() -> tracker.openStream(decision, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("requestId");
    }

    @Test
    void aBadUsageIsRefusedWithoutEndingOrNumberingTheStream() {
        UsageStream stream = tracker.openStream(check(), "req-1");

        assertThatThrownBy(() -> stream.charge(-1, Money.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tokens").hasMessageContaining("-1");
        assertThatThrownBy(() -> stream.finish(1, Money.parse("-0.5"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cost").hasMessageContaining("-$0.5");
        assertThatThrownBy(() -> stream.finish(1, null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("cost");

        assertThat(stream.ended()).isFalse();
        assertThat(stream.chunkCount()).isZero();
        stream.finish(2, Money.ZERO);
        assertThat(store.charged).containsExactly("req-1#0");
    }

    @Test
    void twoReplicasChargingTheSameRequestAndChunkCountItOnce() {
        GovernanceConfig twoInFlight = config(2);
        BudgetResolver resolver = BudgetResolver.create(store, () -> twoInFlight, clock);
        UsageTracker replicaA = UsageTracker.create(store, twoInFlight);
        UsageTracker replicaB = UsageTracker.create(store, twoInFlight);
        Decision decision = resolver.check(CheckRequest.builder().virtualKey(SECRET).estimatedTokens(500).build());
        Decision other = resolver.check(CheckRequest.builder().virtualKey(SECRET).build());
        assertThat(other.allowed()).isTrue();

        UsageStream onA = replicaA.openStream(decision, "req-1");
        UsageStream onB = replicaB.openStream(decision, "req-1");
        assertThat(onA.charge(10, Money.parse("0.1"))).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(onB.charge(10, Money.parse("0.1"))).isEqualTo(ChargeOutcome.DUPLICATE);
        assertThat(onB.finish(5, Money.parse("0.05"))).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(onA.finish(5, Money.parse("0.05"))).isEqualTo(ChargeOutcome.DUPLICATE);

        assertThat(used(Metric.TOKENS)).as("each chunk once, the estimate given back").isEqualTo(15);
        assertThat(used(Metric.COST)).isEqualTo(Money.parse("0.15").nanos());
        assertThat(used(Metric.IN_FLIGHT)).as("the other request keeps its place").isEqualTo(1);
    }

    @Test
    void theAsyncVariantsChargeAndSettleTheSame() {
        UsageStream stream = tracker.openStream(check(), "req-1");
        CompletionStage<ChargeOutcome> chunk = stream.chargeAsync(20, Money.parse("0.2"));
        CompletionStage<ChargeOutcome> last = stream.finishAsync();

        assertThat(chunk.toCompletableFuture().join()).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(last.toCompletableFuture().join()).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(stream.closeAsync().toCompletableFuture().join()).isNull();
        assertThat(used(Metric.TOKENS)).isEqualTo(20);
        assertThat(used(Metric.IN_FLIGHT)).isZero();
        assertThat(store.charged).containsExactly("req-1#0", "req-1#1");
    }

    @Test
    void aStreamOverNoLimitsChargesNothing() {
        GovernanceConfig empty = GovernanceConfig.empty();
        Decision decision = BudgetResolver.create(store, () -> empty, clock).check(CheckRequest.builder().build());
        UsageStream stream = UsageTracker.create(store, empty).openStream(decision, "req-1");

        assertThat(stream.charge(5, Money.parse("1"))).isEqualTo(ChargeOutcome.NOTHING_TO_CHARGE);
        assertThat(stream.finish()).isEqualTo(ChargeOutcome.NOTHING_TO_CHARGE);
        assertThat(store.charged).isEmpty();
    }

    @Test
    void chunksChargedFromManyThreadsEachTakeANumberOfTheirOwn() throws Exception {
        UsageStream stream = tracker.openStream(check(), "req-1");
        int threads = 8;
        int perThread = 200;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        assertThat(stream.charge(1, Money.ZERO)).isEqualTo(ChargeOutcome.CHARGED);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> each : done) {
                each.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        stream.finish();

        assertThat(used(Metric.TOKENS)).isEqualTo(threads * perThread);
        assertThat(store.charged).hasSize(threads * perThread + 1).doesNotHaveDuplicates()
                .endsWith("req-1#" + threads * perThread);
    }

    @Test
    void aCloseRacingWithChunksLetsEveryChunkCountOrFailAndNoneAfterTheEnd() throws Exception {
        UsageStream stream = tracker.openStream(check(), "req-1");
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Integer> charged = new CopyOnWriteArrayList<>();
        try {
            CountDownLatch started = new CountDownLatch(threads);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    started.countDown();
                    while (true) {
                        try {
                            stream.charge(1, Money.ZERO);
                            charged.add(1);
                        } catch (IllegalStateException ended) {
                            return null;
                        }
                    }
                }));
            }
            started.await(PATIENCE_SECONDS, TimeUnit.SECONDS);
            stream.close();
            for (Future<?> each : done) {
                each.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(used(Metric.TOKENS)).isEqualTo(charged.size());
        assertThat(store.charged).hasSize(charged.size() + 1).doesNotHaveDuplicates()
                .contains("req-1#" + charged.size());
        assertThat(used(Metric.IN_FLIGHT)).isZero();
    }

    @Test
    void aStreamShowsItsRequestAndChunksButNoSecret() {
        UsageStream stream = tracker.openStream(check(), "req-1");
        stream.charge(1, Money.ZERO);
        assertThat(stream).hasToString("UsageStream[requestId=req-1, chunks=1]");
        stream.close();
        assertThat(stream).hasToString("UsageStream[requestId=req-1, chunks=2, ended]");
        assertThat(stream.requestId()).isEqualTo("req-1");
        assertThat(stream.toString()).doesNotContain(SECRET);
    }

    /** The in-memory store, recording the idempotency key of every charge that reached it. */
    private static final class RecordingStore extends ForwardingStore {
        final List<String> charged = new CopyOnWriteArrayList<>();

        RecordingStore(InMemoryGovernanceStore store) {
            super(store);
        }

        @Override
        public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
            charged.add(idempotencyKey);
            return super.charge(idempotencyKey, ops);
        }
    }
}
