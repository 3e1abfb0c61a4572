package io.tollgate.redis.internal;

import java.time.Clock;

/**
 * The store's clock as this replica guesses it between replies: its own clock plus the offset to Redis {@code TIME}
 * that the last reply showed. The scripts check the guess (see {@link SlotGroup.Windows}) and answer with Redis time
 * when it was wrong, so a wrong guess costs a second call, never a wrong count; in practice it only happens within
 * moments of a window boundary. With a test time source, the guess is that source's time, which the scripts use
 * instead of {@code TIME}.
 *
 * <p>Thread-safe.
 */
public final class StoreClock {

    /** An offset that moved less than this is not worth a write to a field every thread reads. */
    private static final long DRIFT_MILLIS = 2;

    private final Clock local;
    private final Clock testTime;
    private volatile long offset;

    /**
     * @param local    this replica's clock
     * @param testTime the test time source the scripts use instead of Redis {@code TIME}, or null
     */
    public StoreClock(Clock local, Clock testTime) {
        this.local = local;
        this.testTime = testTime;
    }

    /** The guessed store time. */
    public long guess() {
        return testTime != null ? testTime.millis() : local.millis() + offset;
    }

    /** Learns from a reply that the store's time was {@code storeMillis} (about) now. */
    public void learn(long storeMillis) {
        if (testTime != null) {
            return;
        }
        long observed = storeMillis - local.millis();
        if (Math.abs(observed - offset) >= DRIFT_MILLIS) {
            offset = observed;
        }
    }

    /** The time argument of a script call made at the guess {@code guess}: '' for Redis {@code TIME}. */
    public String timeArg(long guess) {
        return testTime != null ? Long.toString(guess) : "";
    }

    /** Whether scripts use a test time source instead of Redis {@code TIME}. */
    public boolean testing() {
        return testTime != null;
    }
}
