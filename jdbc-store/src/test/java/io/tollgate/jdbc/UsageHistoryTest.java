package io.tollgate.jdbc;

import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.Window;
import io.tollgate.jdbc.testing.Rows;
import io.tollgate.jdbc.testing.TestDatabase;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.TestClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static io.tollgate.jdbc.testing.Counters.charge;
import static io.tollgate.jdbc.testing.Counters.limit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UsageHistoryTest {

    private static final Instant DAY = Instant.parse("2030-01-15T00:00:00Z");
    private static final long HOUR = 3_600_000L;
    private static final Holder KEY = Holder.virtualKey("vk-1");

    private static TestDatabase db;
    private static UsageHistory history;

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create(UsageHistoryTest.class);
        TollgateSchema.migrate(db.dataSource());
        history = UsageHistory.create(db.dataSource());
    }

    @BeforeEach
    void fiveHoursOfUsage() {
        Rows.execute(db.dataSource(), "DELETE FROM tollgate_usage_snapshot");
        Limit hourlyCost = limit(KEY, Metric.COST, "1h");
        Limit dailyTokens = limit(KEY, Metric.TOKENS, "1d");
        Limit otherKey = limit(Holder.virtualKey("vk-2"), Metric.COST, "1h");
        TestClock clock = new TestClock(DAY);
        InMemoryGovernanceStore store = InMemoryGovernanceStore.builder().clock(clock).build();
        SnapshotFlusher flusher = SnapshotFlusher.builder(store, db.dataSource()).clock(clock).build();
        for (int hour = 0; hour < 5; hour++) {
            clock.set(DAY.plus(Duration.ofMinutes(hour * 60L + 10)));
            charge(store, (hour + 1) * 100L, hourlyCost, otherKey);
            charge(store, 10, dailyTokens);
            flusher.flushNow();
        }
    }

    @AfterAll
    static void dropDatabase() {
        db.close();
    }

    @Test
    void listsEveryWindowOfTheHolderByWindowStart() {
        long day = DAY.toEpochMilli();

        List<UsageRecord> records = history.query(KEY, DAY, DAY.plus(Duration.ofHours(5)));

        assertThat(records).containsExactly(
                new UsageRecord(Metric.COST, "1h", new Window(day, day + HOUR), 100,
                        DAY.plus(Duration.ofMinutes(10))),
                new UsageRecord(Metric.TOKENS, "1d", new Window(day, day + 24 * HOUR), 50,
                        DAY.plus(Duration.ofMinutes(4 * 60 + 10))),
                record(1, 200), record(2, 300), record(3, 400), record(4, 500));
    }

    @Test
    void filtersByMetricAndKeepsWindowsThatOverlapTheRange() {
        List<UsageRecord> records = history.query(KEY, Metric.COST, DAY.plus(Duration.ofMinutes(90)),
                DAY.plus(Duration.ofHours(3)));

        assertThat(records).containsExactly(record(1, 200), record(2, 300));
    }

    @Test
    void refusesAnEmptyRange() {
        assertThatThrownBy(() -> history.query(KEY, DAY, DAY))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("from: " + DAY);
    }

    @Test
    void deletesWindowsThatEndedBeforeACutoff() {
        JdbcSnapshotSource source = JdbcSnapshotSource.create(db.dataSource());
        Instant lastHour = DAY.plus(Duration.ofMinutes(4 * 60 + 10));
        int currentBefore = source.currentSnapshots(lastHour).size();

        // hours 0 and 1 of both keys end by 02:00
        assertThat(history.deleteWindowsEndedBefore(DAY.plus(Duration.ofHours(2)))).isEqualTo(4);

        assertThat(history.query(KEY, Metric.COST, DAY, DAY.plus(Duration.ofHours(5)))).extracting(UsageRecord::amount)
                .containsExactly(300L, 400L, 500L);
        assertThat(source.currentSnapshots(lastHour)).hasSize(currentBefore);
        assertThat(Rows.of(db.dataSource(), "tollgate_usage_snapshot")).hasSize(3 + 1 + 3);
    }

    private static UsageRecord record(int hour, long amount) {
        long start = DAY.toEpochMilli() + hour * HOUR;
        return new UsageRecord(Metric.COST, "1h", new Window(start, start + HOUR), amount,
                Instant.ofEpochMilli(start).plus(Duration.ofMinutes(10)));
    }
}
