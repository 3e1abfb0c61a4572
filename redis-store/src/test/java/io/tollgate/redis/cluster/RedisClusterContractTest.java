package io.tollgate.redis.cluster;

import io.lettuce.core.cluster.RedisClusterClient;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.testing.RedisClusterFixture;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.GovernanceStoreContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The contract every store passes, on a real three-master Redis Cluster: a request's limits spread over several hash
 * slots (each holder in its own slot group), so every check and charge here runs the grouped path.
 */
class RedisClusterContractTest extends GovernanceStoreContract {

    private static final AtomicInteger STORES = new AtomicInteger();
    private static RedisClusterClient client;

    @BeforeAll
    static void connect() {
        client = RedisClusterFixture.shared().newClient();
    }

    @AfterAll
    static void disconnect() {
        RedisClusterFixture.shutdown(client);
    }

    @Override
    protected GovernanceStore createStore(Clock clock) {
        return RedisGovernanceStore.builder(client)
                .options(options(RedisStoreOptions.builder()
                        .keyPrefix("cluster-contract" + STORES.incrementAndGet())
                        .testTimeSource(clock)
                        .commandTimeout(Duration.ofSeconds(10)))
                        .build())
                .build();
    }

    /** The options of each store, for a variant of the suite to change. */
    RedisStoreOptions.Builder options(RedisStoreOptions.Builder options) {
        return options;
    }
}
