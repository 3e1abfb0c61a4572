package io.tollgate.spi;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of {@link GovernanceStore#reserve}: whether every counter had room (and so every amount was taken),
 * each counter's state before the call in the order of the request, and the store's clock at the time, so that
 * retry times are computed on the clock that lays out the windows.
 *
 * <p>A store that could not reach its shared counters and let a failure policy answer instead says so with its
 * {@link #status()}: {@link Status#DEGRADED} when the policy decided from local state (the counters are then this
 * replica's view, on its own clock), {@link Status#UNAVAILABLE} when the policy denies because the store cannot
 * answer (no counters; {@link #retryAfter()} says when to try again).
 *
 * <p>Immutable and thread-safe.
 *
 * @param admitted        whether every amount was taken
 * @param counters        each counter's state before the call, in the order of the request; empty when
 *                        {@link Status#UNAVAILABLE}
 * @param storeTimeMillis the store's clock at the time of the answer, epoch milliseconds
 * @param status          who answered: the shared store, or a failure policy
 * @param retryAfter      for {@link Status#UNAVAILABLE} only: how long a caller should wait before retrying; else null
 * @param lease           when admitted with holds: the lease they were taken under, which a charge settles
 *                        ({@link CounterOps#settling}); null otherwise. Opaque, and meaningful to the store that issued
 *                        it only
 */
public record ReserveResult(boolean admitted, List<CounterState> counters, long storeTimeMillis, Status status,
                            Duration retryAfter, String lease) {

    /** Who answered a reservation. */
    public enum Status {
        /** The shared store answered: the counters are exact across every replica. */
        EXACT,
        /** The shared store could not answer; a failure policy decided from this replica's own state. */
        DEGRADED,
        /** The shared store could not answer; the failure policy denies. */
        UNAVAILABLE
    }

    public ReserveResult {
        counters = List.copyOf(counters);
        Objects.requireNonNull(status, "ReserveResult.status");
        if (status == Status.UNAVAILABLE) {
            if (admitted) {
                throw new IllegalArgumentException("ReserveResult.admitted: true contradicts status UNAVAILABLE");
            }
            if (retryAfter == null || retryAfter.isNegative()) {
                throw new IllegalArgumentException("ReserveResult.retryAfter: " + retryAfter
                        + " must be zero or positive when the status is UNAVAILABLE");
            }
        } else if (retryAfter != null) {
            throw new IllegalArgumentException("ReserveResult.retryAfter: " + retryAfter
                    + " is only for status UNAVAILABLE, not " + status);
        }
        if (lease != null && !admitted) {
            throw new IllegalArgumentException("ReserveResult.lease: a denied reservation holds nothing");
        }
    }

    /** An exact answer of the shared store that took no lease. */
    public ReserveResult(boolean admitted, List<CounterState> counters, long storeTimeMillis) {
        this(admitted, counters, storeTimeMillis, Status.EXACT, null, null);
    }

    /** An exact answer of the shared store; {@code lease} names what it holds (null for nothing). */
    public static ReserveResult exact(boolean admitted, List<CounterState> counters, long storeTimeMillis,
                                      String lease) {
        return new ReserveResult(admitted, counters, storeTimeMillis, Status.EXACT, null, lease);
    }

    /** An answer of a failure policy from this replica's own state, on its own clock. */
    public static ReserveResult degraded(boolean admitted, List<CounterState> counters, long timeMillis,
                                         String lease) {
        return new ReserveResult(admitted, counters, timeMillis, Status.DEGRADED, null, lease);
    }

    /** A denial by a failure policy because the store cannot answer: retry after {@code retryAfter}. */
    public static ReserveResult unavailable(long timeMillis, Duration retryAfter) {
        return new ReserveResult(false, List.of(), timeMillis, Status.UNAVAILABLE, retryAfter, null);
    }

    /** Whether a failure policy answered instead of the shared store ({@link Status#DEGRADED} or unavailable). */
    public boolean isDegraded() {
        return status != Status.EXACT;
    }

    /** Whether the store could not answer and the failure policy denies. */
    public boolean isUnavailable() {
        return status == Status.UNAVAILABLE;
    }
}
