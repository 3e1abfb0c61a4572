package io.tollgate.jdbc;

import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.jdbc.testing.Rows;
import io.tollgate.jdbc.testing.TestDatabase;
import io.tollgate.memory.InMemoryGovernanceStore;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * How the cost of one flush grows with the number of changed counters: 1k, 10k and 100k counters, first as new rows
 * (INSERT) and then as raised values of the same rows (the ON DUPLICATE KEY UPDATE path). Not a test: run it by hand
 * against the same server as the tests,
 *
 * <pre>
 * mvn -B -o -pl jdbc-store test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.tollgate.jdbc.FlushBenchmark
 * </pre>
 */
public final class FlushBenchmark {

    private static final int[] SIZES = {1_000, 10_000, 100_000};
    private static final int ROUNDS = 3;

    private FlushBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        try (TestDatabase db = TestDatabase.create(FlushBenchmark.class)) {
            TollgateSchema.migrate(db.dataSource());
            System.out.printf("JDK %s, %d CPUs, MariaDB %s, %d rounds each (best and median of rounds)%n",
                    System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
                    serverVersion(db), ROUNDS);
            System.out.printf("%9s  %-7s %10s %10s %12s%n", "counters", "kind", "best ms", "median ms", "rows/s (best)");
            Clock clock = Clock.fixed(Instant.parse("2030-01-15T10:20:30Z"), ZoneOffset.UTC);
            for (int size : SIZES) {
                long[] inserts = new long[ROUNDS];
                long[] updates = new long[ROUNDS];
                for (int round = 0; round < ROUNDS; round++) {
                    Rows.execute(db.dataSource(), "DELETE FROM tollgate_usage_snapshot");
                    InMemoryGovernanceStore store = InMemoryGovernanceStore.builder().clock(clock).build();
                    Limit[] limits = new Limit[size];
                    for (int i = 0; i < size; i++) {
                        limits[i] = Counters.limit(Holder.virtualKey("vk-" + i), Metric.COST, "1h");
                        Counters.charge(store, 1_000 + i, limits[i]);
                    }
                    SnapshotFlusher flusher = SnapshotFlusher.builder(store, db.dataSource()).clock(clock).build();
                    inserts[round] = timed(flusher, size);
                    for (Limit limit : limits) {
                        Counters.charge(store, 7, limit);
                    }
                    updates[round] = timed(flusher, size);
                }
                print(size, "insert", inserts);
                print(size, "update", updates);
            }
        }
    }

    private static long timed(SnapshotFlusher flusher, int expected) {
        long start = System.nanoTime();
        int written = flusher.flushNow();
        long elapsed = System.nanoTime() - start;
        if (written != expected) {
            throw new IllegalStateException("wrote " + written + " rows, expected " + expected);
        }
        return elapsed;
    }

    private static void print(int size, String kind, long[] nanos) {
        long[] sorted = nanos.clone();
        java.util.Arrays.sort(sorted);
        double best = sorted[0] / 1e6;
        double median = sorted[sorted.length / 2] / 1e6;
        System.out.printf("%9d  %-7s %10.1f %10.1f %12.0f%n", size, kind, best, median, size / (best / 1e3));
    }

    private static String serverVersion(TestDatabase db) throws Exception {
        try (Connection connection = db.dataSource().getConnection();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT VERSION()")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
