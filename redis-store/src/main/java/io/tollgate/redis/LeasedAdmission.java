package io.tollgate.redis;

import java.time.Duration;

/**
 * Leased admission: a replica takes slices of a request counter's window from Redis, counted there as used, and admits
 * requests against its slices without a call while every counter of the request has local room; the call that finds
 * a slice short both decides its request and refills the slices of its counters. The sum of what every replica holds
 * and admitted never passes a counter's maximum, so no window ever admits more than its maximum.
 *
 * <p>What applies: a request limit takes slices; a token or cost limit checked without an estimate (which blocks only
 * once the counter reached its maximum) is decided from the value this replica last read of it, plus what this replica
 * charged since, read again at most every {@code refillInterval}; a token or cost estimate comes from a slice of
 * estimates, a reservation of its own in Redis under a lease like any other, which this replica extends while it lives
 * (the check's lease is then this replica's own: its settle puts the estimate back into the slice). A request with an
 * in-flight limit takes the shared path (one call) as without leases, and refills the slices of its request limits
 * there.
 *
 * <p>Slice sizes: about this replica's use of the counter over {@code refillInterval} (doubled or halved as slices
 * run out faster or slower than that), and at most {@code maxShare} of what the counter has left, as Redis computes it
 * in the call: with less than {@code 1 / maxShare} left there is no slice at all, so near the maximum every decision
 * is exact per request again. Unused slices go back to Redis when this replica leaves a counter idle for
 * {@code idleReturn}, when a reply shows the counter near its maximum, and when the store closes; a replica that dies
 * holds its request slices until the window ends and its slices of estimates one lease duration at most.
 *
 * <p>The price is bounded under-admission: at any moment a window may refuse at most what live replicas hold unused
 * (each at most {@code maxShare} of what was left when it refilled, and about its rate times
 * {@code refillInterval}), and a dead replica's request slices stay counted until their windows end. The values a
 * replica reports are its own view: Redis less what it holds; other replicas' slices count as used.
 *
 * <p>Immutable and thread-safe.
 *
 * @param allLimits       whether every limit is leased; when false (the default) only limits marked {@code leased} in
 *                        the configuration are
 * @param refillInterval  how often, at the replica's own rate, a slice runs out and is refilled: the target time
 *                        between two calls for one counter; also the longest a token or cost limit's value is trusted
 *                        without a read
 * @param maxShare        the largest share of what a counter has left that one slice may take, above 0 and at most 0.5
 * @param idleReturn      a counter this replica has not used for this long gets its unused slice back
 */
public record LeasedAdmission(boolean allLimits, Duration refillInterval, double maxShare, Duration idleReturn) {

    private static final LeasedAdmission MARKED_ONLY = new LeasedAdmission(false, Duration.ofMillis(20), 0.05,
            Duration.ofMillis(500));

    public LeasedAdmission {
        positive("refillInterval", refillInterval);
        positive("idleReturn", idleReturn);
        if (!(maxShare > 0 && maxShare <= 0.5)) {
            throw new IllegalArgumentException("LeasedAdmission.maxShare: " + maxShare
                    + " must be above 0 and at most 0.5");
        }
        if (idleReturn.compareTo(refillInterval) < 0) {
            throw new IllegalArgumentException("LeasedAdmission.idleReturn: " + idleReturn
                    + " must be at least the refillInterval " + refillInterval);
        }
    }

    /** The default: only limits marked {@code leased} in the configuration are leased. */
    public static LeasedAdmission markedLimitsOnly() {
        return MARKED_ONLY;
    }

    /** Every limit leased, with the default sizes and times (20 ms refill, 5 % share, 500 ms idle return). */
    public static LeasedAdmission everyLimit() {
        return MARKED_ONLY.withAllLimits(true);
    }

    /** These options with every limit leased or only the marked ones. */
    public LeasedAdmission withAllLimits(boolean all) {
        return new LeasedAdmission(all, refillInterval, maxShare, idleReturn);
    }

    /** These options with another target refill interval. */
    public LeasedAdmission withRefillInterval(Duration interval) {
        return new LeasedAdmission(allLimits, interval, maxShare, idleReturn);
    }

    /** These options with another largest share of what is left per slice. */
    public LeasedAdmission withMaxShare(double share) {
        return new LeasedAdmission(allLimits, refillInterval, share, idleReturn);
    }

    /** These options with another idle time after which a slice goes back. */
    public LeasedAdmission withIdleReturn(Duration idle) {
        return new LeasedAdmission(allLimits, refillInterval, maxShare, idle);
    }

    private static void positive(String field, Duration value) {
        if (value == null || value.toMillis() < 1) {
            throw new IllegalArgumentException("LeasedAdmission." + field + ": " + value + " must be at least 1 ms");
        }
    }
}
