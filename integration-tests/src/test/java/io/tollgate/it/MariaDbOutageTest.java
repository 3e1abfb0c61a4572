package io.tollgate.it;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tollgate.BudgetResolver;
import io.tollgate.GovernanceConfig;
import io.tollgate.Limit;
import io.tollgate.UsageTracker;
import io.tollgate.jdbc.SnapshotFlusher;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.jdbc.testing.TcpProxy;
import io.tollgate.micrometer.MicrometerListener;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.resilience.ResilientStoreOptions;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * MariaDB is unreachable for 30 seconds (a proxy in front of it is cut) while checks, charges and flushes go on:
 * the hot path does not notice, the flusher keeps what it could not write, and when the database returns the
 * snapshot rows equal the store's counters.
 */
class MariaDbOutageTest {

    @RegisterExtension
    final Servers servers = new Servers();

    @Test
    void databaseOutageLosesNoUsage() throws Exception {
        GovernanceConfig config = Fixtures.config();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MicrometerListener metrics = MicrometerListener.create(registry);
        RedisGovernanceStore primary = RedisGovernanceStore.builder(servers.client())
                .options(RedisStoreOptions.builder().commandTimeout(Duration.ofMillis(250)).build())
                .build();
        RedisKillTest.warmUp(primary);
        ResilientGovernanceStore store = ResilientGovernanceStore.builder(primary)
                .options(ResilientStoreOptions.builder().policy(FailurePolicy.LOCAL).build())
                .listener(metrics)
                .build();
        BudgetResolver resolver = BudgetResolver.create(store, config).withListener(metrics);
        List<Limit> limits = RedisKillTest.limitsOf(resolver);
        UsageTracker tracker = UsageTracker.create(store, config);

        try (TcpProxy proxy = new TcpProxy(servers.db().host(), servers.db().port())) {
            HikariDataSource viaProxy = servers.db().newDataSource("127.0.0.1", proxy.port(), pool -> {
                pool.setPoolName("flusher-via-proxy");
                pool.setMaximumPoolSize(2);
                pool.setConnectionTimeout(500);
                pool.setValidationTimeout(250);
            });
            SnapshotFlusher flusher = SnapshotFlusher.builder(store, viaProxy)
                    .interval(Duration.ofMillis(200))
                    .retryBackoff(Duration.ofMillis(200), Duration.ofSeconds(1))
                    .listener(metrics)
                    .build()
                    .start();
            Load load = new Load(resolver, tracker, 2, 2_000);
            try {
                Fixtures.await("two flushes", Duration.ofSeconds(30), () -> flusher.stats().flushes() >= 2);
                load.phase("before");
                proxy.cut();
                Fixtures.sleep(30_000);
                SnapshotFlusher.Stats during = flusher.stats();
                double lagDuring = registry.get("tollgate.flush.lag").gauge().value();
                proxy.restore();
                long restoredAt = System.nanoTime();
                Histogram fault = load.phase("fault");
                long flushes = flusher.stats().flushes();
                Fixtures.await("two flushes after the outage", Duration.ofSeconds(30),
                        () -> flusher.stats().flushes() >= flushes + 2 && flusher.stats().pending() == 0);
                double converge = (System.nanoTime() - restoredAt) / 1e9;
                load.stop();
                flusher.close();

                Map<String, Long> rows = Counters.rows(servers.db().dataSource());
                Map<String, Long> live = RedisKillTest.live(primary, limits);
                long missing = 0;
                for (Map.Entry<String, Long> counter : live.entrySet()) {
                    missing += Math.max(0, counter.getValue() - rows.getOrDefault(counter.getKey(), 0L));
                }
                Summary.print("mariadb-unreachable", load.served.get(), Load.p99Millis(fault), Load.maxMillis(fault),
                        missing + load.chargesLost.get(), converge, String.format(Locale.ROOT,
                                "outage=30.0s failed-flushes=%d pending-during=%d flush-lag-during=%.1fs degraded=%d",
                                during.failedFlushes(), during.pending(), lagDuring, load.degraded.get()));

                assertThat(during.failedFlushes()).as("flushes failed during the outage").isPositive();
                assertThat(during.pending()).as("and kept their values").isPositive();
                assertThat(lagDuring).as("the lag metric shows the outage").isGreaterThan(20);
                assertThat(load.degraded).as("the hot path never needed the database").hasValue(0);
                assertThat(load.chargesLost).hasValue(0);
                assertThat(rows).as("every counter value is persisted once the database returns").isEqualTo(live);
                assertThat(registry.get("tollgate.flush.attempts").tag("result", "failure").counter().count())
                        .isPositive();
            } finally {
                load.stop();
                flusher.close();
            }
        } finally {
            store.close();
        }
    }
}
