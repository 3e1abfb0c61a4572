package io.tollgate.redis.cluster;

import io.tollgate.redis.RedisStoreOptions;

import java.time.Duration;

/**
 * The contract every store passes, on a real three-master Redis Cluster, with charges coalesced per hash tag (2 ms, up
 * to 16 a call): a request's slot groups are each batched with other requests' charges of the same tag.
 */
class RedisClusterCoalescedChargesContractTest extends RedisClusterContractTest {

    @Override
    RedisStoreOptions.Builder options(RedisStoreOptions.Builder options) {
        return options.coalesceCharges(Duration.ofMillis(2), 16);
    }
}
