package io.tollgate.redis;

import java.time.Duration;

/** The contract every store passes, on a real Redis, with charges coalesced (2 ms, up to 16 a call). */
class RedisCoalescedChargesContractTest extends RedisGovernanceStoreContractTest {

    @Override
    RedisStoreOptions.Builder options(RedisStoreOptions.Builder options) {
        return options.coalesceCharges(Duration.ofMillis(2), 16);
    }
}
