package io.tollgate.spi;

import io.tollgate.Limit;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Counters and windows, nothing else: the store knows neither customers nor teams, only the flat list of limits that
 * the core resolved for one request. The core keeps the governance logic; a store keeps counts exact under
 * concurrency, across every replica that shares it.
 *
 * <p>The calls of one request, in order:
 * <ol>
 *   <li>{@link #reserve}: before the upstream call, for the request's whole list at once. The store computes each
 *       limit's current window on its own clock, reads every counter, and only if every counter
 *       {@linkplain CounterOp#fits fits} its amount adds every amount, atomically. The result reports each counter's
 *       value before the call, so the core can say which limit denied.</li>
 *   <li>{@link #charge}: after the upstream call (or once per streamed chunk), with the same list. Adds every amount
 *       to the current windows and gives back what the reservation took, atomically, at most once per idempotency
 *       key across every replica for as long as the store keeps keys.</li>
 *   <li>{@link #read}: current values, for metrics and dashboards.</li>
 * </ol>
 * <p>Off the hot path:
 * <ol>
 *   <li>{@link #changesSince}: the counters changed since a mark, with absolute values, for a snapshot flusher. Cost
 *       in proportion to what changed.</li>
 *   <li>{@link #restore}: after the store lost its data, raise counters of still-current windows to persisted values.
 *       Never lowers a counter.</li>
 * </ol>
 *
 * <p>Amounts are non-negative {@code long}s; a sum that would overflow is refused with an error and nothing applied.
 * Windows no longer current are dropped by the store on its own (no reset job).
 *
 * <p>Implementations must be thread-safe; the asynchronous calls must never block the calling thread on I/O and must
 * complete (normally or exceptionally, with a {@link io.tollgate.TollgateException}) within the store's timeout.
 */
public interface GovernanceStore extends AutoCloseable {

    /** Atomically checks every counter and, only if all have room, takes every amount. */
    CompletionStage<ReserveResult> reserve(List<CounterOp> ops);

    /**
     * Atomically applies every op, once per {@code idempotencyKey}: a key seen before applies nothing and reports
     * {@link ChargeResult#DUPLICATE}.
     */
    CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops);

    /** The current window and value of each limit's counter, in order. */
    CompletionStage<List<CounterState>> read(List<Limit> limits);

    /**
     * The counters changed since {@code mark} ({@code 0} for every counter the store holds), with the mark to pass
     * next. A counter may be reported again in a later batch. Its value only grows within a window, except when a
     * charge gives back what a reservation took; a monotone snapshot may then stay above the live value by the
     * estimates given back, which errs toward counting too much, never too little.
     */
    ChangeBatch changesSince(long mark);

    /** Raises each counter of a still-current window to at least its snapshot value. */
    void restore(Collection<CounterSnapshot> snapshots);

    /**
     * The longest a hot-path call ({@link #reserve}, {@link #charge}, {@link #read}) takes to complete, normally or
     * with a timeout; empty when the store does not bound its calls. A decorator in front of the store bounds its own
     * calls from it.
     */
    default Optional<Duration> callTimeout() {
        return Optional.empty();
    }

    /** Releases what the store opened itself; never closes a client the user passed in. */
    @Override
    void close();
}
