package io.tollgate.redis;

/**
 * The contract every store passes, on a real Redis, with every limit leased and slices of up to half of what is left,
 * so that even the suite's small maximums are admitted from slices.
 */
class RedisLeasedContractTest extends RedisGovernanceStoreContractTest {

    @Override
    RedisStoreOptions.Builder options(RedisStoreOptions.Builder options) {
        return options.leasedAdmission(LeasedAdmission.everyLimit().withMaxShare(0.5));
    }
}
