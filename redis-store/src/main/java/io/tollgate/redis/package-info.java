/**
 * The Redis store: {@link io.tollgate.redis.RedisGovernanceStore}, built from the user's Lettuce
 * {@code RedisClient}, and its options {@link io.tollgate.redis.RedisStoreOptions}. Limits hold exactly across every
 * replica that shares one Redis: one Lua script call per check and per charge, on Redis time.
 */
package io.tollgate.redis;
