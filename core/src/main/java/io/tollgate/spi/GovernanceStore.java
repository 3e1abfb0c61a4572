package io.tollgate.spi;

import io.tollgate.Limit;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Counters and windows, nothing else: the store knows neither customers nor teams, only the flat list of limits that
 * the core resolved for one request. The core keeps the governance logic; a store keeps counts exact under
 * concurrency, across every replica that shares it.
 *
 * <p>The calls of one request, in order:
 * <ol>
 *   <li>{@link #reserve}: before the upstream call, for the request's whole list at once. The store computes each
 *       limit's current window on its own clock, reads every counter, and only if every counter
 *       {@linkplain CounterOp#fits fits} its amount and hold takes them all, atomically; the holds under a lease of
 *       {@link #leaseDuration()} that it names in {@link ReserveResult#lease()}. The result reports each counter's
 *       value before the call, so the core can say which limit denied.</li>
 *   <li>{@link #charge}: after the upstream call (or once per streamed chunk), with the same list. Adds every amount
 *       to the current windows and, when the ops {@linkplain CounterOps#settles() settle} a lease, gives back what it
 *       holds, atomically, at most once per idempotency key across every replica for as long as the store keeps
 *       keys. A lease is given back once: by its settle, or when it expires, by the store itself.</li>
 *   <li>{@link #read}: current values, for metrics and dashboards.</li>
 * </ol>
 * <p>Off the hot path:
 * <ol>
 *   <li>{@link #changes}: the counters that may have changed since the previous call, with absolute values and
 *       versions, for a snapshot flusher. Cost in proportion to what changed.</li>
 *   <li>{@link #restore}: after the store lost its data, raise counters of still-current windows to persisted values.
 *       Never lowers a counter.</li>
 * </ol>
 *
 * <p>Ops are a {@code List<CounterOp>}; the core passes {@link CounterOps}, whose resolved list of limits is the same
 * object for every call of the same request shape, so a store may cache per list. Amounts are non-negative
 * {@code long}s; a sum that would overflow is refused with an error and nothing applied. Windows no longer current
 * are dropped by the store on its own (no reset job).
 *
 * <p>Implementations must be thread-safe; the asynchronous calls must never block the calling thread on I/O and must
 * complete (normally or exceptionally, with a {@link io.tollgate.TollgateException}) within the store's timeout.
 */
public interface GovernanceStore extends AutoCloseable {

    /** Atomically checks every counter and, only if all have room, takes every amount and hold. */
    CompletionStage<ReserveResult> reserve(List<CounterOp> ops);

    /**
     * Atomically applies every op, and gives back the lease the ops settle, once per {@code idempotencyKey}: a key
     * seen before applies nothing and reports {@link ChargeResult#DUPLICATE}.
     */
    CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops);

    /** The current window and value of each limit's counter, in order. */
    CompletionStage<List<CounterState>> read(List<Limit> limits);

    /**
     * The counters that may have changed since the previous call (since the store was opened, for the first), with
     * their absolute values and versions; the caller keeps what it got until it has persisted it. A counter may be
     * reported again in a later batch, with a higher version when its value may have changed.
     */
    ChangeBatch changes();

    /** Raises each counter of a still-current window to at least its snapshot value. */
    void restore(Collection<CounterSnapshot> snapshots);

    /** How long a lease lasts before the store gives its holds back by itself; what a streaming caller extends. */
    Duration leaseDuration();

    /**
     * Extends {@code lease} by {@link #leaseDuration()} from now: for a streaming request that runs longer. Completes
     * with false when the lease was settled or has expired already (its holds were given back).
     */
    CompletionStage<Boolean> extendLease(String lease);

    /**
     * The longest a hot-path call ({@link #reserve}, {@link #charge}, {@link #read}) takes to complete, normally or
     * with a timeout; empty when the store does not bound its calls. A decorator in front of the store bounds its own
     * calls from it.
     */
    default Optional<Duration> callTimeout() {
        return Optional.empty();
    }

    /**
     * Tells {@code listener} of every data loss this store finds from now on (see {@link DataLoss}); a store that
     * cannot lose its data (one in memory) never calls it. The listener must not block.
     */
    default void onDataLoss(Consumer<DataLoss> listener) {
    }

    /** Releases what the store opened itself; never closes a client the user passed in. */
    @Override
    void close();
}
