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
 * The contract every store passes, on a real three-master Redis Cluster, with charges coalesced per hash tag (2 ms, up
 * to 16 a call): a request's slot groups are each batched with other requests' charges of the same tag.
 */
class RedisClusterCoalescedChargesContractTest extends GovernanceStoreContract {

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
                .options(RedisStoreOptions.builder()
                        .keyPrefix("cluster-coalesced" + STORES.incrementAndGet())
                        .testTimeSource(clock)
                        .commandTimeout(Duration.ofSeconds(10))
                        .coalesceCharges(Duration.ofMillis(2), 16)
                        .build())
                .build();
    }
}
