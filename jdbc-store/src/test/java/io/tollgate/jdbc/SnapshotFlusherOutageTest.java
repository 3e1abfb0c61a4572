package io.tollgate.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.StoreException;
import io.tollgate.jdbc.testing.Await;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.jdbc.testing.LogCapture;
import io.tollgate.jdbc.testing.MigratedDatabase;
import io.tollgate.jdbc.testing.TcpProxy;
import io.tollgate.memory.InMemoryGovernanceStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.tollgate.jdbc.testing.Counters.charge;
import static io.tollgate.jdbc.testing.Counters.limit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The database goes away behind a proxy while charges continue; nothing may be lost. */
class SnapshotFlusherOutageTest {

    @RegisterExtension
    static final MigratedDatabase DB = MigratedDatabase.withEmptySnapshots();

    @Test
    void keepsEverythingWhileTheDatabaseIsUnreachableAndWritesItWhenItReturns() throws Exception {
        // a 1 s window makes new windows, so new rows, appear during the outage
        Limit perSecond = limit(Holder.virtualKey("vk-1"), Metric.REQUESTS, "1s");
        Limit perHour = limit(Holder.virtualKey("vk-1"), Metric.COST, "1h");
        Limit teamPerDay = limit(Holder.team("team-1"), Metric.TOKENS, "1d");
        InMemoryGovernanceStore store = InMemoryGovernanceStore.create();
        AtomicBoolean charging = new AtomicBoolean(true);
        AtomicReference<Throwable> chargeFailure = new AtomicReference<>();
        Thread charger = new Thread(() -> {
            try {
                while (charging.get()) {
                    charge(store, 1, perSecond, perHour, teamPerDay);
                    Thread.sleep(2);
                }
            } catch (Throwable e) {
                chargeFailure.set(e);
            }
        });

        try (TcpProxy proxy = new TcpProxy(DB.host(), DB.port());
             LogCapture logs = new LogCapture()) {
            HikariDataSource viaProxy = DB.newDataSource("127.0.0.1", proxy.port(), config -> {
                config.setPoolName("via-proxy");
                config.setMaximumPoolSize(2);
                config.setConnectionTimeout(500);
                config.setValidationTimeout(250);
            });
            SnapshotFlusher flusher = SnapshotFlusher.builder(store, viaProxy)
                    .interval(Duration.ofMillis(50))
                    .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(400))
                    .build();
            charger.start();
            flusher.start();
            Await.until("two flushes", Duration.ofSeconds(30), () -> flusher.stats().flushes() >= 2);

            proxy.cut();
            Await.until("five failed flushes", Duration.ofSeconds(60), () -> flusher.stats().failedFlushes() >= 5);
            Await.until("a new 1 s window during the outage", Duration.ofSeconds(30),
                    () -> !Counters.rows(DB.dataSource()).keySet().containsAll(Counters.values(store).keySet()));
            assertThat(flusher.stats().pending()).isPositive();

            proxy.restore();
            long flushes = flusher.stats().flushes();
            Await.until("two flushes after the outage", Duration.ofSeconds(30),
                    () -> flusher.stats().flushes() >= flushes + 2);
            charging.set(false);
            charger.join();
            flusher.close();

            assertThat(chargeFailure.get()).isNull();
            assertThat(Counters.rows(DB.dataSource())).isEqualTo(Counters.values(store));
            SnapshotFlusher.Stats stats = flusher.stats();
            assertThat(stats.pending()).isZero();
            assertThat(stats.outages()).isEqualTo(1);
            assertThat(logs.linesContaining("WARN io.tollgate.jdbc.SnapshotFlusher - Tollgate snapshot flush failed"))
                    .as("the outage is logged once, whatever the number of attempts (%d)", stats.failedFlushes())
                    .hasSize(1);
            assertThat(logs.linesContaining("INFO io.tollgate.jdbc.SnapshotFlusher - Tollgate snapshot flush recovered"))
                    .hasSize(1);
        }
    }

    @Test
    void beyondMaxPendingTheWindowsThatEndedFirstAreDropped() throws Exception {
        Instant now = Instant.parse("2030-01-15T10:20:30Z");
        InMemoryGovernanceStore store = InMemoryGovernanceStore.builder().clock(Clock.fixed(now, ZoneOffset.UTC)).build();
        charge(store, 1, limit(Holder.user("u"), Metric.REQUESTS, "1m"), limit(Holder.user("u"), Metric.TOKENS, "1h"),
                limit(Holder.user("u"), Metric.COST, "1d"));

        try (TcpProxy proxy = new TcpProxy(DB.host(), DB.port())) {
            proxy.cut();
            HikariDataSource viaProxy = DB.newDataSource("127.0.0.1", proxy.port(), config -> {
                config.setPoolName("cut-proxy");
                config.setInitializationFailTimeout(-1);
                config.setConnectionTimeout(250);
            });
            SnapshotFlusher flusher = SnapshotFlusher.builder(store, viaProxy).maxPending(2).build();

            assertThatThrownBy(flusher::flushNow).isInstanceOf(StoreException.class);
            assertThat(flusher.stats().pending()).isEqualTo(2);
            assertThat(flusher.stats().dropped()).isEqualTo(1);

            assertThatThrownBy(flusher::flushNow).as("a retry drops the same value again").isInstanceOf(StoreException.class);
            assertThat(flusher.stats().dropped()).isEqualTo(1);

            proxy.restore();
            AtomicInteger written = new AtomicInteger(-1);
            // the pool may still be backing off from its own failed connection attempts
            Await.until("a successful flush", Duration.ofSeconds(30), () -> {
                try {
                    written.set(flusher.flushNow());
                    return true;
                } catch (StoreException e) {
                    return false;
                }
            });
            assertThat(written).hasValue(2);
            assertThat(flusher.stats().dropped()).isZero();
            assertThat(Counters.rows(DB.dataSource()).keySet())
                    .allSatisfy(key -> assertThat(key).doesNotContain("|REQUESTS|"))
                    .hasSize(2);
        }
    }
}
