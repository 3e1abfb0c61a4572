package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.GovernanceStoreContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** The contract every store passes, on a real Redis, with charges coalesced (2 ms, up to 16 a call). */
class RedisCoalescedChargesContractTest extends GovernanceStoreContract {

    private static final AtomicInteger STORES = new AtomicInteger();
    private static RedisClient client;

    @BeforeAll
    static void connect() {
        client = RedisFixture.shared().newClient();
    }

    @AfterAll
    static void disconnect() {
        RedisFixture.shutdown(client);
    }

    @Override
    protected GovernanceStore createStore(Clock clock) {
        return RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder()
                        .keyPrefix("coalesced" + STORES.incrementAndGet())
                        .testTimeSource(clock)
                        .commandTimeout(Duration.ofSeconds(10))
                        .coalesceCharges(Duration.ofMillis(2), 16)
                        .build())
                .build();
    }
}
