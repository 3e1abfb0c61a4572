/**
 * The Redis store: {@link io.tollgate.redis.RedisGovernanceStore}, built from the user's Lettuce
 * {@code RedisClient} or {@code RedisClusterClient}, its options {@link io.tollgate.redis.RedisStoreOptions} and, for
 * Redis Cluster, its {@link io.tollgate.redis.RedisPlacement}. Limits hold across every replica that shares one Redis,
 * on Redis time.
 *
 * <ul>
 *   <li>Standalone Redis: one Lua script call per check and per charge, atomic over the request's whole list.</li>
 *   <li>Redis Cluster: one script call per slot group of the request, each atomic. A check is admitted only if every
 *       group admits; when some group refuses, what the others took is released. No counter passes its maximum, so
 *       request limits are never exceeded; a concurrent release can only cause a transient false denial. A charge is
 *       applied once per group and idempotency key, so a retry completes a charge that failed half-way and never
 *       doubles a group. Usage acknowledged by a master in the moments before it crashed, and not yet replicated, is
 *       lost in a failover. The module's README gives the whole design, its guarantees and measurements.</li>
 * </ul>
 */
package io.tollgate.redis;
