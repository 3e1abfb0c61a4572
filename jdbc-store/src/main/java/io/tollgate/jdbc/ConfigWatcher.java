package io.tollgate.jdbc;

import io.tollgate.GovernanceConfig;
import io.tollgate.StoreException;
import io.tollgate.jdbc.internal.OutageLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The latest configuration of a {@link JdbcConfigStore}, for {@link io.tollgate.BudgetResolver} and
 * {@link io.tollgate.UsageTracker}: {@link #get()} returns a held reference, so it costs nothing on the hot path.
 *
 * <p>A daemon thread polls the version row every poll interval and reloads the whole configuration when the version
 * changed. When a poll fails, the last configuration stays in use; the failure is logged once per outage (WARN), and
 * the recovery once (INFO). A watcher given a fallback starts from it when the database cannot be reached at start
 * ({@link #version()} is then {@value #NOT_LOADED}) and switches to the database's configuration at the first poll
 * that reaches it.
 *
 * <p>Thread-safe. Close it to stop the thread.
 */
public final class ConfigWatcher implements Supplier<GovernanceConfig>, AutoCloseable {

    /** The {@link #version()} while the fallback given at start is in use. */
    public static final long NOT_LOADED = -1;

    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

    private final JdbcConfigStore store;
    private final ScheduledExecutorService executor;
    private final OutageLog outage;
    private volatile JdbcConfigStore.VersionedConfig state;

    /** {@code fallback}: the configuration to start from if the database cannot be reached now, or null to fail. */
    ConfigWatcher(JdbcConfigStore store, Duration pollInterval, Clock clock, GovernanceConfig fallback) {
        if (pollInterval == null || pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("pollInterval: " + pollInterval + " must be positive");
        }
        this.store = store;
        this.outage = new OutageLog(LOG, "Polling the Tollgate configuration version", clock);
        this.state = firstLoad(fallback);
        this.executor = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "tollgate-config-watcher");
            thread.setDaemon(true);
            return thread;
        });
        long millis = Math.max(1, pollInterval.toMillis());
        executor.scheduleWithFixedDelay(this::poll, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** The latest configuration loaded. */
    public GovernanceConfig current() {
        return state.config();
    }

    /** The same as {@link #current()}. */
    @Override
    public GovernanceConfig get() {
        return state.config();
    }

    /** The version of {@link #current()}, or {@value #NOT_LOADED} while the fallback given at start is in use. */
    public long version() {
        return state.version();
    }

    private JdbcConfigStore.VersionedConfig firstLoad(GovernanceConfig fallback) {
        try {
            return store.loadVersioned();
        } catch (StoreException e) {
            if (fallback == null) {
                throw e;
            }
            outage.failed(e, "Using the fallback configuration given at start until a load succeeds");
            return new JdbcConfigStore.VersionedConfig(fallback, NOT_LOADED);
        }
    }

    private void poll() {
        // Every exception is caught: one escaping would cancel the schedule for good.
        try {
            if (state.version() == NOT_LOADED || store.readVersion() != state.version()) {
                JdbcConfigStore.VersionedConfig loaded = store.loadVersioned();
                state = loaded;
                LOG.info("Loaded Tollgate configuration version {}: {}", loaded.version(), loaded.config());
            }
            outage.succeeded("Configuration version " + state.version() + " is current.");
        } catch (RuntimeException e) {
            outage.failed(e, "Keeping configuration version " + state.version() + " until a poll succeeds");
        }
    }

    /** Stops polling; {@link #current()} keeps returning the last configuration. */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
