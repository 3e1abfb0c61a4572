package io.tollgate.redis;

/**
 * What a {@link RedisGovernanceStore} did so far, for dashboards and load tests.
 *
 * <p>Immutable and thread-safe.
 *
 * @param cachedDenials  reservations denied from the replica's memory of spent counters, without a call
 * @param windowRetries  calls sent again because Redis time had left the windows this replica guessed
 * @param restores       restores after data loss this replica ran
 */
public record RedisStoreStats(long cachedDenials, long windowRetries, long restores) {
}
