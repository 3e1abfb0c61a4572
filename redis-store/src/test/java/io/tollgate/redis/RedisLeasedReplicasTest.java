package io.tollgate.redis;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.TestInfo;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The replica tests with every limit leased: four replicas with their own clients, eight threads each, admit exactly
 * the limit from their slices and calls, and once demand stops their unused slices go back, so the counters read
 * exact again.
 */
class RedisLeasedReplicasTest extends RedisReplicasTest {

    @Override
    RedisStoreOptions.Builder options(RedisStoreOptions.Builder options) {
        return options.leasedAdmission(LeasedAdmission.everyLimit().withIdleReturn(Duration.ofMillis(200)));
    }

    @Override
    void demandStopped() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (stores.stream().anyMatch(store -> store.stats().slicesHeld() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(stores).allSatisfy(store -> assertThat(store.stats().slicesHeld())
                .as("slices held by %s once idle", store).isZero());
    }

    @AfterEach
    void slicesWereUsed(TestInfo test) {
        if (!test.getDisplayName().contains("InFlight")) {
            long local = stores.stream().mapToLong(store -> store.stats().localAdmissions()).sum();
            System.out.printf("%s: %d checks admitted from slices, %d slices taken, %d given back%n",
                    test.getDisplayName(), local,
                    stores.stream().mapToLong(store -> store.stats().sliceRefills()).sum(),
                    stores.stream().mapToLong(store -> store.stats().sliceReturns()).sum());
            assertThat(local).as("checks admitted from slices").isPositive();
        }
    }
}
