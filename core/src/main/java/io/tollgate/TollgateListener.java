package io.tollgate;

import java.time.Instant;
import java.util.List;

/**
 * Events for metrics and logs, from every part of Tollgate that has something to say: {@link BudgetResolver} (each
 * decision, counters near their limit), {@link UsageTracker} (each charge), a resilient store decorator (store calls, availability, buffered and replayed usage, data loss), a
 * restore after data loss, and a snapshot flusher. Every method has an empty default, so an implementation overrides
 * what it needs; {@link #NOOP} is the listener of anything that was given none. No method carries a virtual key
 * secret: holders are named by kind and id only.
 *
 * <p>Implementations must be thread-safe and fast: they are called on the hot path, also on I/O event-loop threads,
 * so they must neither block nor throw (a thrown exception is ignored).
 */
public interface TollgateListener {

    /** The listener that ignores every event. */
    TollgateListener NOOP = new TollgateListener() {
    };

    /** Whether the shared store answers, as a circuit breaker in front of it sees it. */
    enum StoreState {
        /** Calls go to the store (circuit closed). */
        AVAILABLE,
        /** A few calls probe whether the store is back (circuit half open). */
        PROBING,
        /** Calls do not go to the store; the failure policy answers (circuit open). */
        UNAVAILABLE
    }

    /** A check was decided, whatever its outcome ({@link Decision#degraded()} says whether a policy decided). */
    default void decided(Decision decision) {
    }

    /**
     * An admitted check brought a counter to the near-limit ratio of its limit's maximum or past it (see
     * {@link BudgetResolver#withNearLimitRatio}): the warning of a soft budget, before the limit denies. Told at most
     * once per counter and window by each resolver; not for in-flight limits (they have no window to wait for) nor for
     * degraded decisions (their counters are this replica's view). Called after {@link #decided}.
     *
     * @param usage the limit, with the value of its counter after the check (what the check took included) and the
     *              window
     * @param ratio the ratio that was reached, as configured
     */
    default void nearLimit(LimitUsage usage, double ratio) {
    }

    /**
     * A charge of {@link UsageTracker} ended (also one with nothing to charge). Called on the thread that completed
     * the store call.
     *
     * @param outcome what the charge did
     * @param limits  the limits it charged, in resolution order, as the store was sent them (a limit checked in shadow
     *                with its unreachable maximum); empty when there was nothing to charge
     * @param tokens  the tokens it charged: the update's when it {@linkplain ChargeOutcome#CHARGED charged} usage,
     *                else 0
     * @param cost    the money it charged, likewise; {@link Money#ZERO} when none
     */
    default void charged(ChargeOutcome outcome, List<Limit> limits, long tokens, Money cost) {
    }

    /**
     * A charge of {@link UsageTracker} failed: the store did not take it and the caller gets {@code failure}. (A
     * resilient store buffers what it cannot pass on, which is then not a failure: see {@link #usageBuffered}.)
     *
     * @param limits  the limits it was to charge, as for {@link #charged}
     * @param failure why, as the caller gets it
     */
    default void chargeFailed(List<Limit> limits, Throwable failure) {
    }

    /**
     * A call to the shared store ended.
     *
     * @param operation {@code reserve}, {@code charge}, {@code read}, {@code changes}, {@code restore},
     *                  {@code probe} or {@code replay}
     * @param nanos     how long it took
     * @param succeeded false when it failed or timed out
     */
    default void storeCall(String operation, long nanos, boolean succeeded) {
    }

    /** The shared store's availability changed. */
    default void storeStateChanged(StoreState state) {
    }

    /**
     * Charges the shared store could not take were buffered for replay.
     *
     * @param charges     how many charges were added to the buffer
     * @param bufferedNow how many charges the buffer holds now
     */
    default void usageBuffered(int charges, int bufferedNow) {
    }

    /** Buffered charges reached the shared store (applied, or found already applied). */
    default void usageReplayed(int charges, int bufferedNow) {
    }

    /** Charges were dropped: the buffer was full, or the store refused them for good. Usage was lost. */
    default void usageDropped(int charges, int bufferedNow) {
    }

    /**
     * The shared store was found to have lost its data (it restores itself from snapshots); the acknowledged
     * charges that no snapshot held yet are replayed.
     *
     * @param chargesToReplay how many acknowledged charges are replayed on top of the restored counters
     */
    default void storeDataLost(int chargesToReplay) {
    }

    /**
     * A restore after data loss read the persisted snapshots.
     *
     * @param snapshots how many snapshots were read (0 when it failed)
     * @param nanos     how long reading took
     * @param succeeded false when the snapshots could not be read
     */
    default void restoreRun(int snapshots, long nanos, boolean succeeded) {
    }

    /**
     * A store with leased admission took a slice of a counter's window for this replica to admit from (see the Redis
     * store's {@code LeasedAdmission}). Called on the thread that completed the store call.
     *
     * @param limit  the limit whose counter the slice is of
     * @param amount how much the slice holds (requests, tokens or nanodollars)
     */
    default void sliceTaken(Limit limit, long amount) {
    }

    /**
     * This replica gave an unused slice back to the shared counter: it went idle, the counter neared its maximum, or
     * the store closed.
     */
    default void sliceReturned(Limit limit, long amount) {
    }

    /**
     * A store with leased admission decided a check: {@code local} when it admitted it from this replica's slices
     * without a call, else by a call to the shared store. Only for checks of limits that are leased.
     */
    default void leasedCheck(boolean local) {
    }

    /** What this replica holds unused of every slice, summed; told periodically while the store runs. */
    default void slicesHeld(long held) {
    }

    /**
     * A snapshot flush attempt ended.
     *
     * @param succeeded           whether everything pending was written
     * @param lastSuccessfulFlush when a flush last succeeded, or null if none has
     * @param pending             counter values waiting to be written
     */
    default void flushed(boolean succeeded, Instant lastSuccessfulFlush, int pending) {
    }
}
