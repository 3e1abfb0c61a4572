package io.tollgate.redis.cluster;

import io.tollgate.redis.LeasedAdmission;
import io.tollgate.redis.RedisStoreOptions;

/**
 * The contract every store passes, on a real three-master Redis Cluster, with every limit leased and slices of up to
 * half of what is left: a request's slot groups each refill the slices of their counters.
 */
class RedisClusterLeasedContractTest extends RedisClusterContractTest {

    @Override
    RedisStoreOptions.Builder options(RedisStoreOptions.Builder options) {
        return options.leasedAdmission(LeasedAdmission.everyLimit().withMaxShare(0.5));
    }
}
