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

/** The contract every store passes, on a real Redis, with the suite's clock as the test time source. */
class RedisGovernanceStoreContractTest extends GovernanceStoreContract {

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
                .options(options(RedisStoreOptions.builder()
                        // a prefix per store keeps each test's change log and data-loss marker its own
                        .keyPrefix("contract" + STORES.incrementAndGet())
                        .testTimeSource(clock)
                        // the suite checks behaviour, not latency: on a cold JVM its 1,000 charges in flight at once
                        // can queue past the 500 ms default, which would rightly fail them
                        .commandTimeout(Duration.ofSeconds(10)))
                        .build())
                .build();
    }

    /** The options of each store, for a variant of the suite to change. */
    RedisStoreOptions.Builder options(RedisStoreOptions.Builder options) {
        return options;
    }
}
