package io.tollgate.jdbc;

import io.tollgate.Budget;
import io.tollgate.Customer;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.Money;
import io.tollgate.jdbc.internal.Jdbis;
import io.tollgate.jdbc.internal.SnapshotDao;
import io.tollgate.jdbc.internal.SnapshotRow;
import io.tollgate.jdbc.testing.Await;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.jdbc.testing.MigratedDatabase;
import io.tollgate.jdbc.testing.Rows;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.tollgate.jdbc.testing.Counters.charge;
import static io.tollgate.jdbc.testing.Counters.limit;
import static org.assertj.core.api.Assertions.assertThat;

class SnapshotFlusherTest {

    private static final Instant NOW = Instant.parse("2030-01-15T10:20:30Z");
    private static final Limit KEY_COST = limit(Holder.virtualKey("vk-1"), Metric.COST, "1h");
    private static final Limit TEAM_TOKENS = limit(Holder.team("team-1"), Metric.TOKENS, "1d");
    private static final Limit CUSTOMER_REQUESTS = limit(Holder.customer("acme"), Metric.REQUESTS, "1m");
    private static final Limit PROVIDER_LIFETIME = limit(Holder.providerConfig("vk-1", "openai"), Metric.COST, "none");

    @RegisterExtension
    static final MigratedDatabase DB = MigratedDatabase.withEmptySnapshots();

    @Test
    void writesTheAbsoluteValueOfEveryChangedCounter() {
        InMemoryGovernanceStore store = storeAt(Clock.fixed(NOW, ZoneOffset.UTC));
        SnapshotFlusher flusher = flusher(store, Clock.fixed(NOW, ZoneOffset.UTC));
        charge(store, 5, KEY_COST, TEAM_TOKENS, CUSTOMER_REQUESTS, PROVIDER_LIFETIME);
        charge(store, 7, KEY_COST, PROVIDER_LIFETIME);

        assertThat(flusher.flushNow()).isEqualTo(4);
        assertThat(Counters.rows(DB.dataSource())).isEqualTo(Counters.values(store))
                .containsEntry("PROVIDER_CONFIG|vk-1/openai|COST|none|0|" + Long.MAX_VALUE, 12L);

        assertThat(flusher.flushNow()).as("nothing changed since").isZero();
        charge(store, 1, TEAM_TOKENS);
        assertThat(flusher.flushNow()).as("only what changed").isEqualTo(1);
        assertThat(Counters.rows(DB.dataSource())).isEqualTo(Counters.values(store));

        SnapshotFlusher.Stats stats = flusher.stats();
        assertThat(stats.lastSuccessfulFlush()).isEqualTo(NOW);
        assertThat(stats.countersWritten()).isEqualTo(5);
        assertThat(stats.flushes()).isEqualTo(3);
        assertThat(stats.pending()).isZero();
        assertThat(stats.failedFlushes()).isZero();
        assertThat(stats.outages()).isZero();
    }

    @Test
    void theLatestValueWinsWhateverOrderTheWritesLandInAndARepeatedWriteChangesNothing() {
        TestClock clock = new TestClock(NOW);
        InMemoryGovernanceStore store = storeAt(clock);
        charge(store, 100, KEY_COST);
        CounterSnapshot earlier = store.changes().counters().get(0);
        // read later, after a charge gave back part of what a reservation held: a lower value, a higher version
        CounterSnapshot later = new CounterSnapshot(earlier.counter(), earlier.window(), 30, earlier.version() + 1);

        upsert(later, clock.millis());
        long laterWrite = clock.millis();
        clock.advance(Duration.ofSeconds(1));
        // the earlier read's flush lands last, as when two flushers race
        upsert(earlier, clock.millis());
        upsert(later, clock.millis());

        assertThat(Counters.rows(DB.dataSource())).containsValue(30L).hasSize(1);
        assertThat(Counters.updatedAt(DB.dataSource(), "vk-1", "COST")).as("unchanged amount, unchanged time")
                .isEqualTo(laterWrite);

        upsert(new CounterSnapshot(earlier.counter(), earlier.window(), 31, later.version() + 1), clock.millis());
        assertThat(Counters.rows(DB.dataSource())).containsValue(31L).hasSize(1);
        assertThat(Counters.updatedAt(DB.dataSource(), "vk-1", "COST")).isEqualTo(clock.millis());
    }

    private static void upsert(CounterSnapshot snapshot, long now) {
        Jdbis.over(DB.dataSource()).useExtension(SnapshotDao.class,
                dao -> dao.upsertSnapshots(List.of(SnapshotRow.of(snapshot, now))));
    }

    @Test
    void aLimitChangedWhileFlushesRunKeepsItsNewValue() throws Exception {
        JdbcConfigStore config = JdbcConfigStore.builder(DB.dataSource()).migrate(false).build();
        config.replaceAll(ConfigFixtures.full());
        InMemoryGovernanceStore store = InMemoryGovernanceStore.create();
        AtomicBoolean charging = new AtomicBoolean(true);
        AtomicReference<Throwable> chargeFailure = new AtomicReference<>();
        Thread charger = new Thread(() -> {
            try {
                while (charging.get()) {
                    charge(store, 3, limit(Holder.customer("acme"), Metric.COST, "1d"), KEY_COST, TEAM_TOKENS);
                    Thread.sleep(1);
                }
            } catch (Throwable e) {
                chargeFailure.set(e);
            }
        });
        charger.start();
        try (SnapshotFlusher flusher = SnapshotFlusher.builder(store, DB.dataSource())
                .interval(Duration.ofMillis(20)).build().start()) {
            Await.until("three flushes", Duration.ofSeconds(30), () -> flusher.stats().flushes() >= 3);

            Customer raised = new Customer("acme", "Acme Corp", List.of(Budget.lifetime(Money.parse("1234.5"))), null);
            assertThat(config.putCustomer(raised)).isTrue();
            Map<String, List<String>> configRows = Rows.config(DB.dataSource());
            long flushes = flusher.stats().flushes();
            Await.until("five more flushes", Duration.ofSeconds(30), () -> flusher.stats().flushes() >= flushes + 5);

            assertThat(config.load().customer("acme")).contains(raised);
            assertThat(Rows.config(DB.dataSource())).as("flushes never touch configuration rows").isEqualTo(configRows);
            assertThat(Rows.of(DB.dataSource(), "tollgate_budget"))
                    .contains("holder_kind=CUSTOMER, holder_id=acme, provider=, position=0, max_nanos=1234500000000, "
                            + "window_id=none, leased=0");
            charging.set(false);
            charger.join();
        }
        assertThat(chargeFailure.get()).isNull();
        assertThat(Counters.rows(DB.dataSource())).as("close() made a final flush").isEqualTo(Counters.values(store));
    }

    @Test
    void countersWhoseIdsDoNotFitTheColumnsAreSkipped() {
        InMemoryGovernanceStore store = storeAt(Clock.fixed(NOW, ZoneOffset.UTC));
        SnapshotFlusher flusher = flusher(store, Clock.fixed(NOW, ZoneOffset.UTC));
        charge(store, 1, KEY_COST, limit(Holder.user("u".repeat(513)), Metric.COST, "1h"));

        assertThat(flusher.flushNow()).isEqualTo(1);

        assertThat(Counters.rows(DB.dataSource())).hasSize(1);
        assertThat(flusher.stats().unfit()).isEqualTo(1);
    }

    private static InMemoryGovernanceStore storeAt(Clock clock) {
        return InMemoryGovernanceStore.builder().clock(clock).build();
    }

    private static SnapshotFlusher flusher(InMemoryGovernanceStore store, Clock clock) {
        return SnapshotFlusher.builder(store, DB.dataSource()).clock(clock).build();
    }
}
