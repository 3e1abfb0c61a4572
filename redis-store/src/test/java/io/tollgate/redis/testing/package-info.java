/**
 * Test support shipped in this module's test-jar: {@link io.tollgate.redis.testing.RedisFixture}, a Redis server of
 * the test's own (a local {@code redis-server}, a Testcontainers Redis, or {@code TOLLGATE_REDIS_URI}), and
 * {@link io.tollgate.redis.testing.RedisClusterFixture}, a three-master Redis Cluster of the test's own (local
 * {@code redis-server} and {@code redis-cli} processes, or {@code TOLLGATE_REDIS_CLUSTER_URI}).
 */
package io.tollgate.redis.testing;
