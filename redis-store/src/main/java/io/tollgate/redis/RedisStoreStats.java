package io.tollgate.redis;

/**
 * What a {@link RedisGovernanceStore} did so far, for dashboards and load tests.
 *
 * <p>Immutable and thread-safe.
 *
 * @param cachedDenials  reservations denied from the replica's memory of spent counters, without a call
 * @param windowRetries  calls sent again because Redis time had left the windows this replica guessed
 * @param restores       restores after data loss this replica ran
 * @param localAdmissions reservations admitted from this replica's slices (see {@link LeasedAdmission}), without a
 *                        call
 * @param sharedDecisions reservations of leased limits decided by a call to Redis
 * @param sliceRefills    slices taken from Redis (of requests with the decision of a request, of estimates on their
 *                        own)
 * @param sliceReturns    unused slices given back to Redis (idle, near the maximum, or at close)
 * @param slicesHeld      what this replica holds unused now, summed over its counters in their own units (requests,
 *                        tokens, nanodollars)
 */
public record RedisStoreStats(long cachedDenials, long windowRetries, long restores, long localAdmissions,
                              long sharedDecisions, long sliceRefills, long sliceReturns, long slicesHeld) {
}
