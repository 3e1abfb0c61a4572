package io.tollgate.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerOnStateTransitionEvent;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.tollgate.Limit;
import io.tollgate.StoreException;
import io.tollgate.TollgateListener.StoreState;
import io.tollgate.TollgateListener;
import io.tollgate.internal.Listeners;
import io.tollgate.resilience.internal.AckLog;
import io.tollgate.resilience.internal.LocalShares;
import io.tollgate.resilience.internal.UsageBuffer;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.DataLoss;
import io.tollgate.spi.FlushAware;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.ReserveResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A store in front of a primary store (the Redis store in practice) that keeps answering when the primary cannot:
 * every call is bounded by a timeout, a circuit breaker stops calling a dead primary and probes it back, a
 * {@link FailurePolicy} answers meanwhile, and the usage charged meanwhile is buffered and replayed, exactly once,
 * when the primary answers again.
 *
 * <pre>{@code
 * RestoreWatch restores = RestoreWatch.of(JdbcSnapshotSource.create(dataSource));
 * RedisGovernanceStore redis = RedisGovernanceStore.builder(client)
 *         .options(RedisStoreOptions.builder().snapshotSource(restores).build())
 *         .build();
 * ResilientGovernanceStore store = ResilientGovernanceStore.builder(redis)
 *         .options(ResilientStoreOptions.builder().policy(FailurePolicy.LOCAL).expectedReplicas(4).build())
 *         .restoreWatch(restores)
 *         .listener(metrics)
 *         .build();
 * SnapshotFlusher flusher = SnapshotFlusher.builder(store, dataSource).build().start(); // reads through the decorator
 * }</pre>
 *
 * <h2>Bounded calls</h2>
 * {@link #reserve}, {@link #charge} and {@link #read} complete within {@link ResilientStoreOptions#timeout()} (by
 * default the Redis store's command timeout plus 100 ms): when the primary has not answered by then, the policy
 * answers a reservation, a charge is buffered, and a read fails with a {@link StoreException}. A caller never waits
 * longer, whatever the primary does (a paused Redis included), also when a flush read holds its call (below).
 * {@link #changes} and {@link #restore} are off the hot path and bounded by the primary's own timeouts.
 *
 * <h2>Circuit breaker</h2>
 * A resilience4j {@link CircuitBreaker} counts the primary's failures and timeouts (a {@link StoreException}; bad
 * arguments and overflows are the caller's and pass through). When {@code failureRateThreshold} percent of the last
 * {@code slidingWindowSize} calls failed, it opens: calls no longer reach the primary and the policy answers at once.
 * After {@code waitInOpenState} a background thread probes the primary with one call (half open); when it succeeds
 * the circuit closes and the buffer is replayed, else it stays open for another wait. The probe is a charge with no
 * counter under a key of its own, so it also runs the primary's restore if the primary lost its data, before any
 * decision trusts it again.
 *
 * <h2>Failure policies</h2>
 * See {@link FailurePolicy}. The policy is set per deployment and may be overridden per limit
 * ({@link ResilientStoreOptions.Builder#policyFor}); a request with any fail-closed limit is denied with
 * {@link io.tollgate.Outcome#STORE_UNAVAILABLE}. Every decision a policy makes is a degraded
 * {@link ReserveResult}, which {@link io.tollgate.BudgetResolver} turns into a {@link io.tollgate.Decision#degraded()
 * degraded decision}. {@code LOCAL} shares are counted in an in-memory store of this replica with each limit's max
 * divided by {@code expectedReplicas} (at least 1): it lays out the same windows as the primary (on the local clock),
 * checks a request's limits atomically and gives estimates back on the charge, all of which a token bucket per limit
 * cannot do, so resilience4j's {@link RateLimiter} is used where it fits instead: to pace the replay
 * ({@code replayRate}), so that a Redis that comes back is not flooded by what every replica buffered.
 *
 * <h2>No lost usage</h2>
 * <ul>
 *   <li><b>Charges while the primary cannot answer</b> are buffered (at most {@code bufferCapacity}; beyond it a
 *       charge is dropped, counted, logged once, and its caller gets a {@link StoreException}) and reported
 *       {@link ChargeResult#APPLIED}. Under {@code LOCAL} they also count against the local shares. The request
 *       slots and estimates that a policy admitted are buffered too. The replay sends each charge with its own
 *       idempotency key and ops, oldest first, beside new charges (sums do not depend on the order). A charge the
 *       primary did apply before it failed to answer is recognised by its key: exactly once.</li>
 *   <li><b>A primary that lost its data</b> (Redis restarted empty) first restores itself from its snapshot source
 *       (the Redis store does it on its first call after the loss, before that call runs), so every replay, which
 *       goes through the primary, lands on restored counters. What the lost Redis had acknowledged since the last
 *       snapshot flush is replayed too: this store keeps acknowledged charges and reservations (at most
 *       {@code replayLogCapacity}) until its {@link io.tollgate.spi.FlushAware flusher} reports them persisted, and
 *       replays those of the counters a {@link DataLoss} names when the primary reports one
 *       ({@link GovernanceStore#onDataLoss}): per loss, once, whatever the time the restore took, and on Redis
 *       Cluster per hash tag, so the loss of any one master is replayed.</li>
 * </ul>
 * What is exact, and what is bounded:
 * <ul>
 *   <li>One replica's flusher reading through this store: exact. A flush read waits for the checks and charges
 *       in flight and holds new ones while it runs (a few round trips every flush interval), so each is wholly
 *       before or after it; a replayed charge that the new Redis already has is a duplicate. A reservation (which
 *       has no idempotency key) is replayed as a charge of what it took of the lost counters: the primary reports
 *       the loss before it completes the first call that the restored data answered, so every reservation this
 *       store saw acknowledged before the report was counted by the lost data only.</li>
 *   <li>Several replicas each flushing: a snapshot holds the latest value any replica wrote, so a charge this
 *       replica acknowledged after its own last flush but before another replica's may be counted twice. Never
 *       lost; at most one flush interval of this replica's usage counted twice.</li>
 *   <li>Replay lands in the window current when it runs: usage of a window that ended during the outage counts
 *       in the next one.</li>
 *   <li>A check that timed out may still run when a paused Redis wakes (or be sent again after a reconnect, unless
 *       Lettuce's own timeout cancelled it): the Redis store has reported it failed by then, so Redis counts the
 *       request and the policy's buffered amounts count it again (or Redis counts a request the policy denied):
 *       at most the checks that timed out, once per outage. A primary that does deliver a late answer lets this
 *       store withdraw the buffered amounts instead. Charges have keys and are never counted twice this way.</li>
 *   <li>A flush write that commits only after a restarted Redis has read the snapshots, yet before this store
 *       notices the loss, confirms entries the restore did not see: they are lost. It takes a database write
 *       slower than a Redis restart.</li>
 * </ul>
 * Give the Redis store a client with {@code ClientOptions.disconnectedBehavior(REJECT_COMMANDS)} and
 * {@code TimeoutOptions.enabled()}, so that calls fail fast while Redis is down and a command that timed out is not
 * sent again after a reconnect, and a short reconnect delay ({@code ClientResources.reconnectDelay}) so that a
 * restarted Redis is found again soon.
 *
 * <h2>Metrics</h2>
 * Calls, circuit states, buffered, replayed and dropped usage and data losses go to the
 * {@linkplain Builder#listener listener} (see {@link MicrometerListener}); {@link #stats()} has the same numbers.
 *
 * <p>Thread-safe. One daemon thread per store probes and replays; timeouts run on one shared daemon thread. The
 * store owns its primary: {@link #close()} replays what it can for up to 5 seconds, then closes the primary.
 */
public final class ResilientGovernanceStore implements GovernanceStore, FlushAware {

    private static final Logger LOG = LoggerFactory.getLogger(ResilientGovernanceStore.class);
    private static final String NAME = "resilient store";
    private static final Duration DEFAULT_PRIMARY_TIMEOUT = Duration.ofMillis(500);
    private static final long TICK_MILLIS = 20;
    private static final long CLOSE_DRAIN_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private final GovernanceStore primary;
    private final CircuitBreakerRegistry breakerRegistry;
    private final String breakerName;
    private final ResilientStoreOptions options;
    private final TollgateListener listener;
    private final Duration timeout;
    private final long timeoutNanos;
    private final CircuitBreaker breaker;
    private final RateLimiter replayPace;
    private final int replayBatch;
    private final UsageBuffer buffer;
    private final AckLog acks;
    private final LocalShares shares;
    private final ScheduledThreadPoolExecutor worker;
    private final String keyPrefix;
    private final AtomicLong keys = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong dataLosses = new AtomicLong();
    private volatile long outageStartNanos;

    private ResilientGovernanceStore(Builder builder) {
        this.primary = builder.primary;
        this.options = builder.options;
        this.listener = builder.listener;
        this.timeout = options.timeout() != null ? options.timeout()
                : primary.callTimeout().orElse(DEFAULT_PRIMARY_TIMEOUT).plus(options.timeoutGuard());
        this.timeoutNanos = timeout.toNanos();
        CircuitBreakerConfig breakerConfig = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(options.slidingWindowSize())
                .minimumNumberOfCalls(options.minimumNumberOfCalls())
                .failureRateThreshold(options.failureRateThreshold())
                .waitDurationInOpenState(options.waitInOpenState())
                // one probe decides: a charge of nothing, which also runs the primary's restore
                .permittedNumberOfCallsInHalfOpenState(1)
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .recordException(ResilientGovernanceStore::isUnavailability)
                .writableStackTraceEnabled(false)
                .build();
        this.breakerRegistry = builder.breakerRegistry;
        this.breakerName = builder.breakerName;
        this.breaker = breakerRegistry == null ? CircuitBreaker.of("tollgate-" + primary, breakerConfig)
                : breakerRegistry.circuitBreaker(breakerName, breakerConfig);
        int perTenth = Math.max(1, options.replayRate() / 10);
        this.replayPace = RateLimiter.of("tollgate-replay-" + primary, RateLimiterConfig.custom()
                .limitRefreshPeriod(Duration.ofMillis(100))
                .limitForPeriod(perTenth)
                .timeoutDuration(Duration.ZERO)
                .build());
        this.replayBatch = Math.min(options.replayBatchSize(), perTenth);
        String name = "Tollgate " + NAME + " over " + primary;
        this.buffer = new UsageBuffer(options.bufferCapacity(), listener, LOG, name);
        this.acks = new AckLog(options.replayLogCapacity(), LOG, name);
        this.shares = new LocalShares(options, primary.leaseDuration());
        // no secret in here: a random id per store instance
        this.keyPrefix = "tollgate-resilient:" + UUID.randomUUID() + ":";
        breaker.getEventPublisher().onStateTransition(this::onTransition);
        int instance = INSTANCES.incrementAndGet();
        this.worker = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "tollgate-resilient-" + instance);
            thread.setDaemon(true);
            return thread;
        });
        worker.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        primary.onDataLoss(this::dataLost);
        if (builder.restoreWatch != null) {
            builder.restoreWatch.listenerIfNone(listener);
        }
    }

    /** A builder of a store in front of {@code primary}, which it owns from then on. */
    public static Builder builder(GovernanceStore primary) {
        return new Builder(Objects.requireNonNull(primary, "primary"));
    }

    /** The options this store was built with. */
    public ResilientStoreOptions options() {
        return options;
    }

    /** The bound on every hot-path call: the configured timeout, or the primary's own plus the guard. */
    public Duration timeout() {
        return timeout;
    }

    /** Whether calls reach the primary now. */
    public StoreState state() {
        return stateOf(breaker.getState());
    }

    /** What this store did so far, for tests and dashboards. */
    public Stats stats() {
        return new Stats(state(), buffer.size(), buffer.bufferedTotal(), buffer.replayedTotal(),
                buffer.droppedTotal() + acks.droppedTotal(), acks.size(), dataLosses.get());
    }

    @Override
    public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
        Objects.requireNonNull(ops, "ops");
        if (!permitted()) {
            return CompletableFuture.completedFuture(policyReserve(ops, null));
        }
        Call<ReserveResult> call = new Call<>("reserve");
        LateAnswer late = new LateAnswer();
        acks.dispatch(epoch -> {
            if (call.expired()) {
                // held by a flush read past its timeout: the policy has answered
                acks.reservationDone(epoch, null);
                return;
            }
            call.send(() -> primary.reserve(ops), (result, failure) -> {
                boolean took = failure == null && result.admitted() && !result.isDegraded();
                acks.reservationDone(epoch, took ? LocalShares.kept(ops) : null);
                if (took && call.expired()) {
                    late.admittedByPrimary();
                }
            });
        });
        return call.out.handle((result, failure) -> {
            if (failure == null) {
                return result;
            }
            Throwable cause = unwrap(failure);
            if (!isUnavailability(cause)) {
                throw asUnchecked(cause);
            }
            return policyReserve(ops, late);
        });
    }

    /**
     * Charges the primary, or buffers the charge when it cannot answer. A charge that settles a lease of a reservation
     * the failure policy admitted gives that lease back here; the primary gets the usage only (it never held the
     * estimates), so the sums do not depend on whether the reservation's replay or the settle reaches it first.
     */
    @Override
    public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> list) {
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        Objects.requireNonNull(list, "ops");
        CounterOps ops = CounterOps.from(list);
        if (LocalShares.isLocal(ops.settles())) {
            shares.settle(ops.settles());
            ops = ops.settling(null);
        }
        return chargePrimary(idempotencyKey, ops);
    }

    private CompletionStage<ChargeResult> chargePrimary(String idempotencyKey, CounterOps ops) {
        if (!permitted()) {
            return buffered(idempotencyKey, ops, true);
        }
        return sendCharge("charge", idempotencyKey, ops).handle((result, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(result);
            }
            Throwable cause = unwrap(failure);
            if (!isUnavailability(cause)) {
                return CompletableFuture.<ChargeResult>failedFuture(cause);
            }
            return buffered(idempotencyKey, ops, true);
        }).thenCompose(Function.identity());
    }

    /** The primary's answer, or a {@link StoreException} when it cannot answer within the timeout. */
    @Override
    public CompletionStage<List<CounterState>> read(List<Limit> limits) {
        Objects.requireNonNull(limits, "limits");
        if (!permitted()) {
            return CompletableFuture.failedFuture(unavailable("read"));
        }
        Call<List<CounterState>> call = new Call<>("read");
        call.send(() -> primary.read(limits), null);
        return call.out;
    }

    /**
     * The primary's changes. A snapshot flusher should read through this store: the read is a flush point of the
     * replay log (charges wait for it, briefly).
     *
     * @throws StoreException when the primary cannot answer or its circuit is open
     */
    @Override
    public ChangeBatch changes() {
        if (!permitted()) {
            throw unavailable("changes");
        }
        boolean logging = options.replayLogCapacity() > 0;
        if (logging) {
            acks.activate();
        }
        long read = logging ? acks.beginRead(timeoutNanos) : 0;
        long sequence = -1;
        try {
            long start = System.nanoTime();
            try {
                ChangeBatch batch = primary.changes();
                settle("changes", System.nanoTime() - start, null);
                sequence = batch.sequence();
                return batch;
            } catch (RuntimeException e) {
                settle("changes", System.nanoTime() - start, e);
                throw e;
            }
        } finally {
            if (logging) {
                acks.endRead(read, sequence);
            }
        }
    }

    /** Passes the snapshots to the primary, bounded by its own timeouts. */
    @Override
    public void restore(Collection<CounterSnapshot> snapshots) {
        primary.restore(snapshots);
    }

    /** A snapshot flusher persisted the batches up to {@code sequence}: their usage needs no replay any more. */
    @Override
    public void flushed(long sequence) {
        acks.confirm(sequence);
    }

    @Override
    public Duration leaseDuration() {
        return primary.leaseDuration();
    }

    /**
     * Extends a lease of the primary, or of the failure policy's local shares; false while the primary cannot answer
     * (a lease may then expire during a long outage, and the estimates it held are given back early).
     */
    @Override
    public CompletionStage<Boolean> extendLease(String lease) {
        Objects.requireNonNull(lease, "lease");
        if (LocalShares.isLocal(lease)) {
            return shares.extend(lease);
        }
        if (!permitted()) {
            return CompletableFuture.completedFuture(false);
        }
        Call<Boolean> call = new Call<>("extendLease");
        call.send(() -> primary.extendLease(lease), null);
        return call.out.exceptionally(failure -> false);
    }

    @Override
    public Optional<Duration> callTimeout() {
        return Optional.of(timeout);
    }

    @Override
    public void onDataLoss(Consumer<DataLoss> listener) {
        primary.onDataLoss(listener);
    }

    /**
     * Stops probing, replays what is buffered for up to 5 seconds if the primary answers (what remains is logged at
     * WARN and counted as dropped), then closes the local shares and the primary.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        worker.shutdown();
        try {
            if (!worker.awaitTermination(timeoutNanos * 2, TimeUnit.NANOSECONDS)) {
                worker.shutdownNow();
            }
        } catch (InterruptedException e) {
            worker.shutdownNow();
            Thread.currentThread().interrupt();
        }
        long deadline = System.nanoTime() + CLOSE_DRAIN_NANOS;
        while (!buffer.isEmpty() && breaker.getState() == CircuitBreaker.State.CLOSED
                && System.nanoTime() - deadline < 0) {
            if (!replayOnce(false)) {
                break;
            }
        }
        int left = buffer.size();
        if (left > 0) {
            LOG.warn("Tollgate {} over {}: closed with {} buffered charges the primary did not take; they are lost",
                    NAME, primary, left);
            buffer.droppedPolled(buffer.poll(left).size());
        }
        shares.close();
        if (breakerRegistry != null) {
            breakerRegistry.remove(breakerName);
        }
        primary.close();
    }

    @Override
    public String toString() {
        return "ResilientGovernanceStore[" + primary + "]";
    }

    // ---------------------------------------------------------------------------------------------------------------

    private boolean permitted() {
        return breaker.getState() == CircuitBreaker.State.CLOSED && breaker.tryAcquirePermission();
    }

    /**
     * The policy's answer; an admitted one buffers what it took for good (request slots), for the primary to count
     * later. What it holds (estimates) stays local: its settle gives it back here.
     */
    private ReserveResult policyReserve(List<CounterOp> ops, LateAnswer late) {
        ReserveResult answer = shares.reserve(ops);
        if (answer.admitted()) {
            CounterOps kept = LocalShares.kept(ops);
            boolean taken = false;
            for (int i = 0; i < kept.size(); i++) {
                taken |= kept.amount(i) > 0;
            }
            if (taken) {
                UsageBuffer.Entry entry = new UsageBuffer.Entry(newKey("admitted"), kept);
                if (late == null) {
                    buffer.offer(entry);
                } else {
                    late.buffer(entry);
                }
            }
        }
        return answer;
    }

    private CompletionStage<ChargeResult> buffered(String key, List<CounterOp> ops, boolean primaryDown) {
        if (primaryDown) {
            shares.charge(key, ops);
        }
        if (buffer.offer(new UsageBuffer.Entry(key, ops))) {
            return CompletableFuture.completedFuture(ChargeResult.APPLIED);
        }
        return CompletableFuture.failedFuture(new StoreException(NAME + ": charge: the primary store cannot take it "
                + "and the usage buffer is full (" + options.bufferCapacity() + " charges): dropped"));
    }

    /** A charge through the replay log's gate, bounded by the timeout from now on (held time included). */
    private CompletableFuture<ChargeResult> sendCharge(String operation, String key, List<CounterOp> ops) {
        Call<ChargeResult> call = new Call<>(operation);
        acks.dispatch(epoch -> {
            if (call.expired()) {
                // held by a flush read past its timeout: the caller has had its answer (buffered)
                acks.chargeDone(epoch, null, null);
                return;
            }
            call.send(() -> primary.charge(key, ops), (result, failure) -> acks.chargeDone(epoch,
                    failure == null && result == ChargeResult.APPLIED ? key : null, ops));
        });
        return call.out;
    }

    /** Charges nothing under a new key: whether the primary answers (after its restore, if it lost its data). */
    private void probe() {
        Call<ChargeResult> call = new Call<>("probe");
        call.send(() -> primary.charge(newKey("probe"), List.of()), null);
        await(call.out);
    }

    /**
     * The primary lost the data of some counters and restored them from its snapshots: what it had acknowledged of
     * them and no flush persisted goes back on top, first in the replay.
     */
    private void dataLost(DataLoss loss) {
        int logged = acks.size();
        List<AckLog.Entry> lost = acks.takeForReplay(loss::affects);
        List<UsageBuffer.Entry> replay = new ArrayList<>(lost.size());
        for (AckLog.Entry entry : lost) {
            replay.add(new UsageBuffer.Entry(entry.reservation() ? newKey("lost") : entry.key(), entry.ops()));
        }
        buffer.addFirst(replay);
        dataLosses.incrementAndGet();
        Listeners.safely(() -> listener.storeDataLost(replay.size()));
        if (acks.active()) {
            LOG.warn("Tollgate {} over {}: the primary lost its data ({}) and restored it from its snapshots; "
                    + "replaying on top the {} acknowledged charges and reservations of it that no snapshot held yet "
                    + "({} others kept)", NAME, primary, loss.scope(), replay.size(), logged - lost.size());
        } else {
            LOG.warn("Tollgate {} over {}: the primary lost its data ({}) and restored it from its snapshots; no "
                    + "flusher reads through this store, so the usage acknowledged since the last snapshot is not "
                    + "replayed", NAME, primary, loss.scope());
        }
    }

    private void tick() {
        try {
            if (closed.get()) {
                return;
            }
            if (breaker.getState() != CircuitBreaker.State.CLOSED) {
                // after the wait this moves the circuit to half open and grants the one probe
                if (breaker.tryAcquirePermission()) {
                    probeQuietly();
                }
                return;
            }
            while (!buffer.isEmpty() && !closed.get() && replayOnce(true)) {
                // as fast as the pace allows, one batch at a time
            }
        } catch (RuntimeException e) {
            LOG.debug("Tollgate {} over {}: background work failed", NAME, primary, e);
        }
    }

    private void probeQuietly() {
        try {
            probe();
        } catch (RuntimeException e) {
            // recorded by the circuit breaker; probed again after the next wait
            LOG.debug("Tollgate {} over {}: probe failed: {}", NAME, primary, e.toString());
        }
    }

    /** Replays one batch; false when nothing more should be tried now (paced, failed, or empty). */
    private boolean replayOnce(boolean paced) {
        int want = Math.min(replayBatch, buffer.size());
        if (want == 0 || (paced && !replayPace.acquirePermission(want))) {
            return false;
        }
        List<UsageBuffer.Entry> batch = buffer.poll(want);
        List<CompletableFuture<ChargeResult>> sent = new ArrayList<>(batch.size());
        for (UsageBuffer.Entry entry : batch) {
            sent.add(permitted() ? sendCharge("replay", entry.key(), entry.ops())
                    : CompletableFuture.failedFuture(unavailable("replay")));
        }
        List<UsageBuffer.Entry> unsent = new ArrayList<>();
        int done = 0;
        int refused = 0;
        for (int i = 0; i < batch.size(); i++) {
            try {
                sent.get(i).get();
                done++;
            } catch (ExecutionException e) {
                Throwable cause = unwrap(e);
                if (isUnavailability(cause)) {
                    unsent.add(batch.get(i));
                } else {
                    refused++;
                    LOG.warn("Tollgate {} over {}: the primary refused a buffered charge for good; it is dropped: {}",
                            NAME, primary, cause.toString());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                unsent.addAll(batch.subList(i, batch.size()));
                break;
            }
        }
        buffer.putBack(unsent);
        buffer.replayed(done);
        buffer.droppedPolled(refused);
        return unsent.isEmpty() && refused == 0;
    }

    private void settle(String operation, long nanos, Throwable failure) {
        if (failure == null) {
            breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
        } else {
            breaker.onError(nanos, TimeUnit.NANOSECONDS, failure);
        }
        boolean succeeded = failure == null || !isUnavailability(failure);
        Listeners.safely(() -> listener.storeCall(operation, nanos, succeeded));
    }

    private void onTransition(CircuitBreakerOnStateTransitionEvent event) {
        StoreState state = stateOf(event.getStateTransition().getToState());
        StoreState from = stateOf(event.getStateTransition().getFromState());
        if (state == StoreState.UNAVAILABLE && from == StoreState.AVAILABLE) {
            outageStartNanos = System.nanoTime();
            LOG.warn("Tollgate {} over {}: the primary is unavailable; the {} policy answers and charges are buffered "
                    + "until it answers again (probed every {})", NAME, primary, options.policy(),
                    options.waitInOpenState());
        } else if (state == StoreState.AVAILABLE && from != StoreState.AVAILABLE) {
            LOG.info("Tollgate {} over {}: the primary answers again after {} ms; replaying {} buffered charges", NAME,
                    primary, (System.nanoTime() - outageStartNanos) / 1_000_000, buffer.size());
        } else {
            LOG.debug("Tollgate {} over {}: circuit {}", NAME, primary, event.getStateTransition());
        }
        Listeners.safely(() -> listener.storeStateChanged(state));
    }

    private String newKey(String kind) {
        return keyPrefix + kind + ":" + keys.incrementAndGet();
    }

    private static StoreState stateOf(CircuitBreaker.State state) {
        return switch (state) {
            case CLOSED, DISABLED, METRICS_ONLY -> StoreState.AVAILABLE;
            case HALF_OPEN -> StoreState.PROBING;
            case OPEN, FORCED_OPEN -> StoreState.UNAVAILABLE;
        };
    }

    /** Failures that say the primary cannot answer now, as opposed to a bad call. */
    static boolean isUnavailability(Throwable failure) {
        return failure instanceof StoreException || failure instanceof TimeoutException
                || failure instanceof CancellationException;
    }

    private StoreException unavailable(String operation) {
        return new StoreException(NAME + ": " + operation + ": the primary store " + primary
                + " is unavailable (circuit " + breaker.getState() + ")");
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static RuntimeException asUnchecked(Throwable cause) {
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new CompletionException(cause);
    }

    /** Waits on a thread that may block for a call, which its own timer bounds. */
    private static <T> T await(CompletableFuture<T> call) {
        try {
            return call.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(NAME + ": interrupted while waiting for the primary", e);
        } catch (ExecutionException e) {
            throw asUnchecked(unwrap(e));
        }
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "tollgate-resilient-timeout");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /**
     * One call to the primary, answered by the primary or by its timeout, whichever comes first; the circuit
     * breaker and the listener learn the outcome once. The primary's answer is still handed to {@code onEnd} when it
     * comes after the timeout (the primary did the work).
     */
    private final class Call<T> {
        private static final int PENDING = 0;
        private static final int ANSWERED = 1;
        private static final int EXPIRED = 2;

        final CompletableFuture<T> out = new CompletableFuture<>();
        private final String operation;
        private final long start = System.nanoTime();
        private final AtomicInteger state = new AtomicInteger(PENDING);
        private final ScheduledFuture<?> timer;
        private volatile boolean sent;

        Call(String operation) {
            this.operation = operation;
            this.timer = TIMER.schedule(this::expire, timeoutNanos, TimeUnit.NANOSECONDS);
        }

        boolean expired() {
            return state.get() == EXPIRED;
        }

        void send(Supplier<? extends CompletionStage<T>> sender, BiConsumer<? super T, Throwable> onEnd) {
            sent = true;
            CompletionStage<T> stage;
            try {
                stage = sender.get();
            } catch (RuntimeException e) {
                stage = CompletableFuture.failedFuture(e);
            }
            stage.whenComplete((value, failure) -> {
                Throwable cause = failure == null ? null : unwrap(failure);
                if (onEnd != null) {
                    Listeners.safely(() -> onEnd.accept(value, cause));
                }
                if (state.compareAndSet(PENDING, ANSWERED)) {
                    timer.cancel(false);
                    settle(operation, System.nanoTime() - start, cause);
                    if (cause == null) {
                        out.complete(value);
                    } else {
                        out.completeExceptionally(cause);
                    }
                }
            });
        }

        private void expire() {
            if (!state.compareAndSet(PENDING, EXPIRED)) {
                return;
            }
            StoreException timedOut = StoreException.timeout(NAME, operation, timeout, null);
            if (sent) {
                settle(operation, System.nanoTime() - start, timedOut);
            }
            out.completeExceptionally(timedOut);
        }
    }

    /**
     * Between a reservation that timed out and the primary's late answer: when the primary turns out to have admitted
     * it after all, the amounts the policy buffered for it are withdrawn (counted once, by the primary).
     */
    private final class LateAnswer {
        private boolean admittedByPrimary;
        private UsageBuffer.Entry buffered;

        synchronized void admittedByPrimary() {
            admittedByPrimary = true;
            if (buffered != null) {
                buffer.withdraw(buffered);
                buffered = null;
            }
        }

        synchronized void buffer(UsageBuffer.Entry entry) {
            if (!admittedByPrimary && buffer.offer(entry)) {
                buffered = entry;
            }
        }
    }

    /**
     * What a {@link ResilientGovernanceStore} did so far. Immutable and thread-safe.
     *
     * @param state        whether calls reach the primary now
     * @param buffered     charges waiting for replay now
     * @param bufferedTotal charges buffered so far (replayed after a data loss included)
     * @param replayed     buffered charges the primary took
     * @param dropped      usage given up: buffer full, refused for good, closed with it buffered, or too much
     *                     unflushed usage to keep for a replay after a data loss
     * @param unflushed    acknowledged charges and reservations no snapshot flush has confirmed yet
     * @param dataLosses   times the primary was found to have lost its data
     */
    public record Stats(StoreState state, int buffered, long bufferedTotal, long replayed, long dropped, int unflushed,
                        long dataLosses) {
    }

    /** Builds a {@link ResilientGovernanceStore}. Not thread-safe. */
    public static final class Builder {
        private final GovernanceStore primary;
        private ResilientStoreOptions options = ResilientStoreOptions.defaults();
        private TollgateListener listener = TollgateListener.NOOP;
        private RestoreWatch restoreWatch;
        private CircuitBreakerRegistry breakerRegistry;
        private String breakerName;

        private Builder(GovernanceStore primary) {
            this.primary = primary;
        }

        /** The options; {@link ResilientStoreOptions#defaults()} unless set. */
        public Builder options(ResilientStoreOptions options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /** Told of calls, circuit states, buffered and replayed usage and data losses; none by default. */
        public Builder listener(TollgateListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Registers this store's circuit breaker in {@code registry} under {@code name} (and removes it at close), so
         * that what watches the registry (resilience4j's Micrometer metrics, its Spring Boot actuator endpoints) sees
         * it. Its settings are this store's options, whatever the registry's configuration for that name: a store
         * needs its own half-open probe. Each store needs a name of its own in a registry.
         *
         * @throws IllegalArgumentException if the registry already has a circuit breaker of that name
         */
        public Builder circuitBreakerRegistry(CircuitBreakerRegistry registry, String name) {
            Objects.requireNonNull(registry, "registry");
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("circuit breaker name: " + name + " must not be blank");
            }
            if (registry.find(name).isPresent()) {
                throw new IllegalArgumentException("circuit breaker name: '" + name + "' is in the registry already;"
                        + " give each store a name of its own");
            }
            this.breakerRegistry = registry;
            this.breakerName = name;
            return this;
        }

        /** The watch over the primary's snapshot source: its restores go to this store's listener unless it has its own. */
        public Builder restoreWatch(RestoreWatch restoreWatch) {
            this.restoreWatch = Objects.requireNonNull(restoreWatch, "restoreWatch");
            return this;
        }

        public ResilientGovernanceStore build() {
            return new ResilientGovernanceStore(this);
        }
    }
}
