package io.tollgate.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.StoreException;
import io.tollgate.TollgateListener.StoreState;
import io.tollgate.WindowSpec;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.micrometer.MicrometerListener;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.DataLoss;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.ReserveResult;
import io.tollgate.spi.SnapshotSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The decorator over an in-memory primary that a test can take down, hang, or empty as a restarted Redis would be
 * (its restore from the last persisted snapshot included). The fault tests against real servers are in the
 * integration-tests module.
 */
class ResilientGovernanceStoreTest {

    private static final Limit REQUESTS = new Limit(Holder.virtualKey("vk"), Metric.REQUESTS, 1_000,
            WindowSpec.unbounded());
    private static final Limit TOKENS = new Limit(Holder.team("team"), Metric.TOKENS, 1_000_000,
            WindowSpec.unbounded());

    private final Primary primary = new Primary();
    private ResilientGovernanceStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private ResilientGovernanceStore store(ResilientStoreOptions.Builder options) {
        store = ResilientGovernanceStore.builder(primary)
                .options(options.timeout(Duration.ofMillis(200)).waitInOpenState(Duration.ofMillis(50)).build())
                .build();
        return store;
    }

    @Test
    void aHungPrimaryIsAnsweredByThePolicyWithinTheTimeout() throws Exception {
        store(ResilientStoreOptions.builder().policy(FailurePolicy.FAIL_OPEN));
        primary.mode = Mode.HUNG;

        ReserveResult answer = store.reserve(List.of(CounterOp.take(REQUESTS, 1))).toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        ChargeResult charged = store.charge("c-1", List.of(CounterOp.add(TOKENS, 5))).toCompletableFuture()
                .get(5, TimeUnit.SECONDS);

        assertThat(answer.admitted()).isTrue();
        assertThat(answer.status()).isEqualTo(ReserveResult.Status.DEGRADED);
        assertThat(answer.counters()).extracting(CounterState::used).containsExactly(0L);
        assertThat(charged).isEqualTo(ChargeResult.APPLIED);
        assertThat(store.stats().buffered()).isEqualTo(2);
        assertThatThrownBy(() -> store.read(List.of(TOKENS)).toCompletableFuture().join())
                .hasCauseInstanceOf(StoreException.class).hasMessageContaining("did not complete within");
    }

    @Test
    void aCircuitBreakerRegistryGivenShowsTheStoresBreakerUnderItsNameUntilClose() {
        CircuitBreakerRegistry registry = CircuitBreakerRegistry.ofDefaults();
        store = ResilientGovernanceStore.builder(primary)
                .options(ResilientStoreOptions.builder().policy(FailurePolicy.FAIL_OPEN)
                        .waitInOpenState(Duration.ofMinutes(1)).build())
                .circuitBreakerRegistry(registry, "gateway-redis")
                .build();
        primary.mode = Mode.DOWN;
        for (int i = 0; i < 10; i++) {
            join(store.reserve(List.of(CounterOp.take(REQUESTS, 1))));
        }

        assertThat(registry.find("gateway-redis")).get()
                .satisfies(breaker -> assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.OPEN));
        assertThatThrownBy(() -> ResilientGovernanceStore.builder(primary).circuitBreakerRegistry(registry,
                "gateway-redis")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'gateway-redis'");
        store.close();
        assertThat(registry.find("gateway-redis")).isEmpty();
    }

    @Test
    void theCircuitOpensOnFailuresAndProbesTheReturningPrimaryBeforeReplaying() {
        store(ResilientStoreOptions.builder().policy(FailurePolicy.FAIL_CLOSED));
        primary.mode = Mode.DOWN;
        for (int i = 0; i < 10; i++) {
            ReserveResult answer = join(store.reserve(List.of(CounterOp.take(REQUESTS, 1))));
            assertThat(answer.isUnavailable()).isTrue();
            assertThat(answer.retryAfter()).isEqualTo(Duration.ofSeconds(1));
            assertThat(join(store.charge("c-" + i, List.of(CounterOp.add(TOKENS, 10)))))
                    .isEqualTo(ChargeResult.APPLIED);
        }
        assertThat(store.state()).isEqualTo(StoreState.UNAVAILABLE);
        int callsWhileOpen = primary.calls;
        join(store.reserve(List.of(CounterOp.take(REQUESTS, 1))));
        assertThat(primary.calls).as("an open circuit does not call the primary").isEqualTo(callsWhileOpen);

        primary.mode = Mode.UP;
        await(() -> store.state() == StoreState.AVAILABLE && store.stats().buffered() == 0);

        assertThat(used(TOKENS)).as("every buffered charge applied once").isEqualTo(100);
        assertThat(used(REQUESTS)).as("fail closed admitted nothing").isZero();
        assertThat(store.stats().replayed()).isEqualTo(10);
    }

    @Test
    void aFullBufferDropsTheChargeCountsItAndTellsTheCaller() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        store = ResilientGovernanceStore.builder(primary)
                .options(ResilientStoreOptions.builder().bufferCapacity(2).timeout(Duration.ofMillis(200)).build())
                .listener(MicrometerListener.create(registry))
                .build();
        primary.mode = Mode.DOWN;

        join(store.charge("a", List.of(CounterOp.add(TOKENS, 1))));
        join(store.charge("b", List.of(CounterOp.add(TOKENS, 1))));
        assertThatThrownBy(() -> join(store.charge("c", List.of(CounterOp.add(TOKENS, 1)))))
                .hasCauseInstanceOf(StoreException.class).hasMessageContaining("usage buffer is full");

        assertThat(store.stats().dropped()).isEqualTo(1);
        assertThat(registry.get("tollgate.usage.dropped").counter().count()).isEqualTo(1);
        assertThat(registry.get("tollgate.usage.buffered").counter().count()).isEqualTo(2);
        assertThat(registry.get("tollgate.usage.buffer.size").gauge().value()).isEqualTo(2);
    }

    @Test
    void localSharesAdmitTheLimitDividedByTheReplicas() {
        Limit ten = new Limit(Holder.user("u"), Metric.REQUESTS, 10, WindowSpec.unbounded());
        store(ResilientStoreOptions.builder().policy(FailurePolicy.LOCAL).expectedReplicas(3));
        primary.mode = Mode.DOWN;
        int admitted = 0;
        for (int i = 0; i < 10; i++) {
            ReserveResult answer = join(store.reserve(List.of(CounterOp.take(ten, 1))));
            assertThat(answer.isDegraded()).isTrue();
            assertThat(answer.counters().get(0).limit().max()).isEqualTo(3);
            admitted += answer.admitted() ? 1 : 0;
        }
        assertThat(admitted).isEqualTo(3);
    }

    @Test
    void afterADataLossTheUnflushedUsageIsReplayedOnTopOfTheRestoredCountersExactlyOnce() {
        Flusher flusher = new Flusher();
        RestoreWatch restores = RestoreWatch.of(now -> new ArrayList<>(flusher.persisted.values()));
        primary.snapshots = restores;
        store = ResilientGovernanceStore.builder(primary)
                .options(ResilientStoreOptions.builder().timeout(Duration.ofMillis(200)).build())
                .restoreWatch(restores)
                .build();
        flusher.store = store;
        long expectedTokens = 0;
        long expectedRequests = 0;
        for (int i = 0; i < 50; i++) {
            assertThat(join(store.reserve(List.of(CounterOp.take(REQUESTS, 1)))).admitted()).isTrue();
            expectedRequests++;
            join(store.charge("before-" + i, List.of(CounterOp.add(TOKENS, i))));
            expectedTokens += i;
            if (i == 20 || i == 40) {
                flusher.flush();
            }
        }
        // these nine charges and reservations were acknowledged after the last flush: only the lost data had them
        primary.loseData();
        // the first call after the loss restores from the snapshots, then runs: the decorator sees the restore
        assertThat(join(store.reserve(List.of(CounterOp.take(REQUESTS, 1)))).admitted()).isTrue();
        expectedRequests++;
        assertThat(restores.runs()).isEqualTo(1);
        await(() -> store.stats().dataLosses() == 1 && store.stats().buffered() == 0);
        // a charge retried with a key the lost Redis had applied is still counted once
        join(store.charge("before-49", List.of(CounterOp.add(TOKENS, 49))));
        await(() -> store.stats().buffered() == 0);

        assertThat(used(TOKENS)).isEqualTo(expectedTokens);
        assertThat(used(REQUESTS)).isEqualTo(expectedRequests);
    }

    @ParameterizedTest(name = "the settle reaches the primary {0} the buffered reservation")
    @ValueSource(strings = {"before", "after"})
    void aDegradedCheckWhoseSettleAndReplayArriveInEitherOrderCountsWhatWasUsed(String order) {
        store(ResilientStoreOptions.builder().policy(FailurePolicy.LOCAL));
        primary.mode = Mode.DOWN;
        ReserveResult degraded = join(store.reserve(List.of(CounterOp.take(REQUESTS, 1),
                CounterOp.hold(TOKENS, 9_000))));
        assertThat(degraded.admitted()).isTrue();
        assertThat(degraded.status()).isEqualTo(ReserveResult.Status.DEGRADED);
        assertThat(store.stats().buffered()).isEqualTo(1);

        // the replay of the buffered reservation waits at the gate until the test lets it through
        primary.holdReplays();
        primary.mode = Mode.UP;
        List<CounterOp> settle = CounterOps.of(List.of(REQUESTS, TOKENS), new long[] {0, 100}, new long[2])
                .settling(degraded.lease());
        if (order.equals("before")) {
            assertThat(join(store.charge("request-1", settle))).isEqualTo(ChargeResult.APPLIED);
            primary.releaseReplays();
        } else {
            primary.releaseReplays();
            await(() -> store.stats().buffered() == 0 && used(REQUESTS) == 1);
            assertThat(join(store.charge("request-1", settle))).isEqualTo(ChargeResult.APPLIED);
        }
        await(() -> store.stats().buffered() == 0);

        assertThat(used(TOKENS)).as("the usage, not the estimate").isEqualTo(100);
        assertThat(used(REQUESTS)).isEqualTo(1);
    }

    @Test
    void aBadArgumentIsTheCallersAndNeverOpensTheCircuit() {
        store(ResilientStoreOptions.builder().policy(FailurePolicy.FAIL_CLOSED));
        join(store.charge("near-the-top", List.of(CounterOp.add(TOKENS, Long.MAX_VALUE - 5))));
        for (int i = 0; i < 50; i++) {
            String key = "overflow-" + i;
            assertThatThrownBy(() -> join(store.charge(key, List.of(CounterOp.add(TOKENS, 10)))))
                    .hasCauseInstanceOf(ArithmeticException.class);
        }

        assertThat(store.state()).isEqualTo(StoreState.AVAILABLE);
        assertThat(store.stats().buffered()).as("nothing buffered for a replay that would fail again").isZero();
        assertThat(join(store.reserve(List.of(CounterOp.take(REQUESTS, 1)))).isDegraded()).isFalse();
    }

    @Test
    void optionsNameTheFieldAndTheBadValue() {
        assertThatThrownBy(() -> ResilientStoreOptions.builder().expectedReplicas(0).build())
                .hasMessageContaining("expectedReplicas").hasMessageContaining("0");
        assertThatThrownBy(() -> ResilientStoreOptions.builder().failureRateThreshold(150).build())
                .hasMessageContaining("failureRateThreshold").hasMessageContaining("150");
        assertThatThrownBy(() -> ResilientStoreOptions.builder().minimumNumberOfCalls(30).build())
                .hasMessageContaining("minimumNumberOfCalls").hasMessageContaining("30");
        assertThatThrownBy(() -> ResilientStoreOptions.builder().timeout(Duration.ZERO).build())
                .hasMessageContaining("timeout");
        assertThat(ResilientStoreOptions.defaults().shareOf(10)).isEqualTo(10);
        assertThat(ResilientStoreOptions.builder().expectedReplicas(4).build().shareOf(3)).isEqualTo(1);
        assertThat(ResilientStoreOptions.builder().policyFor(limit -> limit.metric() == Metric.COST
                ? FailurePolicy.FAIL_CLOSED : null).build().policyOf(TOKENS)).isEqualTo(FailurePolicy.LOCAL);
    }

    private long used(Limit limit) {
        return primary.memory.read(List.of(limit)).toCompletableFuture().join().get(0).used();
    }

    private static <T> T join(CompletionStage<T> stage) {
        return stage.toCompletableFuture().join();
    }

    private static void await(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 10 s").isLessThan(deadline);
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private enum Mode { UP, DOWN, HUNG }

    /** What a snapshot flusher does, without a database: reads, keeps the latest values, reports them persisted. */
    private static final class Flusher {
        ResilientGovernanceStore store;
        final Map<String, CounterSnapshot> persisted = new java.util.concurrent.ConcurrentHashMap<>();

        void flush() {
            ChangeBatch batch = store.changes();
            for (CounterSnapshot snapshot : batch.counters()) {
                persisted.merge(snapshot.counter() + "@" + snapshot.window().startMillis(), snapshot,
                        (a, b) -> a.version() >= b.version() ? a : b);
            }
            store.flushed(batch.sequence());
        }
    }

    /**
     * An in-memory primary that can be taken down, hung, or emptied like a restarted Redis, which restores itself
     * from its snapshot source on the next call, before running it.
     */
    private static final class Primary implements GovernanceStore {
        volatile Mode mode = Mode.UP;
        volatile InMemoryGovernanceStore memory = InMemoryGovernanceStore.create();
        volatile int calls;
        volatile SnapshotSource snapshots;
        private boolean lost;

        synchronized void loseData() {
            memory = InMemoryGovernanceStore.create();
            lost = true;
        }

        private final List<java.util.function.Consumer<DataLoss>> lossListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

        /** Restores a lost store, then tells the listeners, before the call that found the loss runs. */
        private synchronized void restoreIfLost() {
            if (lost) {
                lost = false;
                memory.restore(snapshots.currentSnapshots(java.time.Instant.now()));
                DataLoss loss = new DataLoss() {
                    @Override
                    public boolean affects(Limit limit) {
                        return true;
                    }

                    @Override
                    public java.time.Instant detectedAt() {
                        return java.time.Instant.now();
                    }

                    @Override
                    public String scope() {
                        return "everything";
                    }
                };
                lossListeners.forEach(listener -> listener.accept(loss));
            }
        }

        @Override
        public void onDataLoss(java.util.function.Consumer<DataLoss> listener) {
            lossListeners.add(listener);
        }

        private <T> CompletionStage<T> answer(java.util.function.Supplier<CompletionStage<T>> call) {
            calls++;
            if (mode == Mode.UP) {
                restoreIfLost();
            }
            return switch (mode) {
                case UP -> call.get();
                case DOWN -> CompletableFuture.failedFuture(new StoreException("primary: down"));
                case HUNG -> new CompletableFuture<>();
            };
        }

        @Override
        public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
            return answer(() -> memory.reserve(ops));
        }

        private volatile CompletableFuture<Void> replayGate = CompletableFuture.completedFuture(null);

        /** From now on, charges replayed by the decorator wait until {@link #releaseReplays()}. */
        void holdReplays() {
            replayGate = new CompletableFuture<>();
        }

        void releaseReplays() {
            replayGate.complete(null);
        }

        @Override
        public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
            if (idempotencyKey.startsWith("tollgate-resilient:")) {
                return replayGate.thenCompose(open -> answer(() -> memory.charge(idempotencyKey, ops)));
            }
            return answer(() -> memory.charge(idempotencyKey, ops));
        }

        @Override
        public CompletionStage<List<CounterState>> read(List<Limit> limits) {
            return answer(() -> memory.read(limits));
        }

        @Override
        public ChangeBatch changes() {
            if (mode != Mode.UP) {
                throw new StoreException("primary: down");
            }
            return memory.changes();
        }

        @Override
        public Duration leaseDuration() {
            return memory.leaseDuration();
        }

        @Override
        public CompletionStage<Boolean> extendLease(String lease) {
            return answer(() -> memory.extendLease(lease));
        }

        @Override
        public void restore(Collection<CounterSnapshot> snapshots) {
            memory.restore(snapshots);
        }

        @Override
        public void close() {
        }
    }
}
