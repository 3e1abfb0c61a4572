package io.tollgate.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.jdbc.testing.MigratedDatabase;
import io.tollgate.memory.InMemoryGovernanceStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.tollgate.jdbc.testing.Counters.charge;
import static io.tollgate.jdbc.testing.Counters.limit;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three replicas flush the same counters at the same time, for 30 seconds, while charges continue: every flush of
 * every replica writes the same rows, in the same transactions' worth of contention.
 */
class ConcurrentFlushTest {

    private static final Duration RUN = Duration.ofSeconds(30);
    private static final int KEYS = 40;
    private static final int TEAMS = 8;
    private static final int CUSTOMERS = 2;

    @RegisterExtension
    static final MigratedDatabase DB = MigratedDatabase.shared();

    @Test
    void threeReplicasFlushingTheSameCountersNeitherDeadlockNorLoseAValue() throws Exception {
        // one store shared by three flushers: the replicas agree on every value, as replicas of a Redis store do
        InMemoryGovernanceStore store = InMemoryGovernanceStore.create();
        List<SnapshotFlusher> flushers = new ArrayList<>();
        for (int replica = 0; replica < 3; replica++) {
            String name = "replica-" + replica;
            HikariDataSource pool = DB.newDataSource(config -> {
                config.setPoolName(name);
                config.setMaximumPoolSize(2);
            });
            flushers.add(SnapshotFlusher.builder(store, pool).interval(Duration.ofMillis(25)).build());
        }
        AtomicBoolean charging = new AtomicBoolean(true);
        AtomicReference<Throwable> chargeFailure = new AtomicReference<>();
        AtomicLong charges = new AtomicLong();
        List<Thread> chargers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread charger = new Thread(() -> {
                try {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (charging.get()) {
                        int key = random.nextInt(KEYS);
                        charge(store, 1 + random.nextInt(1_000), limits(key));
                        if (charges.incrementAndGet() % 5 == 0) {
                            Thread.sleep(1);
                        }
                    }
                } catch (Throwable e) {
                    chargeFailure.set(e);
                }
            }, "charger-" + t);
            chargers.add(charger);
            charger.start();
        }
        flushers.forEach(SnapshotFlusher::start);

        Thread.sleep(RUN.toMillis());
        charging.set(false);
        for (Thread charger : chargers) {
            charger.join();
        }
        for (SnapshotFlusher flusher : flushers) {
            flusher.close(); // stops its schedule, then a final flush
        }

        assertThat(chargeFailure.get()).isNull();
        assertThat(Counters.rows(DB.dataSource())).isEqualTo(Counters.values(store));
        long flushes = 0;
        long conflicts = 0;
        for (SnapshotFlusher flusher : flushers) {
            SnapshotFlusher.Stats stats = flusher.stats();
            assertThat(stats.failedFlushes()).as("failed flushes").isZero();
            assertThat(stats.pending()).isZero();
            flushes += stats.flushes();
            conflicts += stats.lockConflictRetries();
        }
        assertThat(flushes).isGreaterThan(30);
        System.out.printf("ConcurrentFlushTest: %d charges, %d flushes by 3 replicas, %d lock-conflict retries, "
                + "%d rows%n", charges.get(), flushes, conflicts, Counters.rows(DB.dataSource()).size());
    }

    /** A key's counters and those of its team and customer; the 1 s windows add new rows all the time. */
    private static Limit[] limits(int key) {
        Holder keyHolder = Holder.virtualKey("vk-" + key);
        Holder team = Holder.team("team-" + key % TEAMS);
        Holder customer = Holder.customer("customer-" + key % CUSTOMERS);
        return new Limit[] {
                limit(keyHolder, Metric.COST, "1h"),
                limit(keyHolder, Metric.TOKENS, "1m"),
                limit(keyHolder, Metric.REQUESTS, "1s"),
                limit(team, Metric.COST, "1h"),
                limit(team, Metric.TOKENS, "1s"),
                limit(customer, Metric.COST, "1d"),
                limit(customer, Metric.REQUESTS, "1s"),
        };
    }
}
