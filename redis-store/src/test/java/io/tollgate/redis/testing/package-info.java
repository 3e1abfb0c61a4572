/**
 * Test support shipped in this module's test-jar: {@link io.tollgate.redis.testing.RedisFixture}, a Redis server of
 * the test's own (a local {@code redis-server}, a Testcontainers Redis, or {@code TOLLGATE_REDIS_URI}).
 */
package io.tollgate.redis.testing;
