package io.tollgate.jdbc;

import io.github.resilience4j.core.IntervalFunction;
import io.tollgate.CounterId;
import io.tollgate.StoreException;
import io.tollgate.TollgateException;
import io.tollgate.TollgateListener;
import io.tollgate.jdbc.internal.Jdbis;
import io.tollgate.jdbc.internal.OutageLog;
import io.tollgate.jdbc.internal.SnapshotDao;
import io.tollgate.jdbc.internal.SnapshotRow;
import io.tollgate.jdbc.internal.SqlErrors;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.FlushAware;
import io.tollgate.spi.GovernanceStore;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Persists the counters of a {@link GovernanceStore} to MariaDB every interval: the absolute value of each counter
 * and window that changed, into {@code tollgate_usage_snapshot}. Those rows are what
 * {@link JdbcSnapshotSource} restores after a store lost its data, and what {@link UsageHistory} reads.
 *
 * <p>One flush:
 * <ol>
 *   <li>reads {@link GovernanceStore#changes() store.changes()};</li>
 *   <li>merges it into the pending values, keyed by counter and window start, keeping the one of the highest
 *       version;</li>
 *   <li>writes every pending value in one batched transaction, rows sorted by primary key, each row an
 *       {@code INSERT ... ON DUPLICATE KEY UPDATE} that takes the value only if its version is higher than the
 *       row's: idempotent, and the latest value wins, so replicas flushing the same counters at once, or a replay,
 *       never move a value back in time, and an estimate a charge gave back does not stay in the snapshots. Sorted rows
 *       take their locks in one order on every replica, so concurrent flushes do not deadlock; a deadlock or lock
 *       wait timeout is still retried once;</li>
 *   <li>only then clears the pending values, and tells a {@link FlushAware} store which batch it wrote.</li>
 * </ol>
 * Configuration tables are never written.
 *
 * <p>When the database (or the store) cannot be reached, the pending values are kept and the flush is retried with
 * exponential backoff and jitter (from 1 s, doubling, up to 30 s by default; each delay drawn within half of it either
 * way, so that replicas that failed together do not retry together). The failure is logged once per outage at WARN, the recovery
 * once at INFO, and everything pending is written when the database returns. Pending values are absolute, one per
 * counter and window, so they grow with the number of counters and windows that changed during the outage, not with
 * the number of charges; {@link Builder#maxPending(int)} bounds them (when exceeded, the values of the windows that
 * ended first are dropped, logged once per outage and shown in {@link Stats#dropped()}).
 *
 * <p>Each attempt is reported to the {@linkplain Builder#listener listener} (for a flush-lag metric), and a store that
 * is {@link FlushAware} is told the mark its written batches reach, right after the write.
 *
 * <p>A flush waits on the database as long as the {@link DataSource} lets it: bound it with the pool's connection
 * timeout and the driver's {@code socketTimeout}. {@link #close()} stops the schedule and makes a final flush; close
 * the flusher before the store it reads.
 *
 * <p>Thread-safe: flushes never overlap ({@link #flushNow()} waits for a scheduled flush in progress); the statistics
 * may be read from any thread.
 */
public final class SnapshotFlusher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotFlusher.class);

    /** Primary key order, so that every replica locks rows in the same order. */
    private static final Comparator<SnapshotRow> PRIMARY_KEY_ORDER = Comparator
            .comparing(SnapshotRow::holderKind)
            .thenComparing(SnapshotRow::holderId, SnapshotFlusher::compareCodePoints)
            .thenComparing(SnapshotRow::metric)
            .thenComparing(SnapshotRow::windowId)
            .thenComparingLong(SnapshotRow::windowStart);

    private final GovernanceStore store;
    private final Jdbi jdbi;
    private final Clock clock;
    private final Duration interval;
    private final IntervalFunction backoff;
    private final int maxPending;
    private final OutageLog outage;
    private final TollgateListener listener;

    private final ReentrantLock flushLock = new ReentrantLock();
    /** Guarded by flushLock. */
    private final Map<PendingKey, CounterSnapshot> pending = new HashMap<>();
    /** Guarded by flushLock: failed attempts since the last success, for the backoff. */
    private int failedAttempts;

    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ScheduledThreadPoolExecutor executor;

    private volatile Instant lastSuccessfulFlush;
    private volatile int pendingCount;
    private final AtomicLong countersWritten = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong failedFlushes = new AtomicLong();
    private final AtomicLong lockConflictRetries = new AtomicLong();
    private volatile long dropped;
    /** Guarded by flushLock: whether this outage's drops were logged. */
    private boolean dropLogged;
    private final AtomicLong unfit = new AtomicLong();

    private SnapshotFlusher(Builder builder) {
        this.store = builder.store;
        this.jdbi = Jdbis.over(builder.dataSource);
        this.clock = builder.clock;
        this.interval = builder.interval;
        this.backoff = IntervalFunction.ofExponentialRandomBackoff(builder.initialBackoff, 2.0, 0.5,
                builder.maxBackoff);
        this.maxPending = builder.maxPending;
        this.outage = new OutageLog(LOG, "Tollgate snapshot flush", clock);
        this.listener = builder.listener;
        this.executor = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "tollgate-snapshot-flusher");
            thread.setDaemon(true);
            return thread;
        });
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * A builder for a flusher of {@code store}'s counters into {@code dataSource}'s database, whose schema must be
     * current (see {@link TollgateSchema}).
     */
    public static Builder builder(GovernanceStore store, DataSource dataSource) {
        return new Builder(store, dataSource);
    }

    /** Starts flushing every interval, the first time one interval from now. */
    public SnapshotFlusher start() {
        if (closed.get()) {
            throw new IllegalStateException("the snapshot flusher is closed");
        }
        if (started.compareAndSet(false, true)) {
            schedule(interval.toMillis());
        }
        return this;
    }

    /**
     * Flushes now, in the calling thread, after any flush in progress.
     *
     * @return how many counter values were written
     * @throws StoreException if the store or the database failed; the pending values are kept for the next flush
     */
    public int flushNow() {
        flushLock.lock();
        try {
            return flush();
        } finally {
            flushLock.unlock();
        }
    }

    /** Counters of the flushes so far, for metrics. */
    public Stats stats() {
        return new Stats(lastSuccessfulFlush, pendingCount, countersWritten.get(), flushes.get(), failedFlushes.get(),
                outage.outages(), lockConflictRetries.get(), dropped, unfit.get());
    }

    /** Stops the schedule, waits for a flush in progress, and flushes a last time. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        executor.shutdown();
        try {
            if (!executor.awaitTermination(1, TimeUnit.MINUTES)) {
                LOG.warn("Tollgate snapshot flusher: a flush is still running after 1 minute; closing anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            flushNow();
        } catch (RuntimeException e) {
            LOG.warn("Tollgate snapshot flusher: the final flush failed; {} counter values were not persisted: {}",
                    pendingCount, SqlErrors.describe(e));
        }
    }

    private void schedule(long delayMillis) {
        if (closed.get()) {
            return;
        }
        try {
            executor.schedule(this::scheduledFlush, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed meanwhile: close() makes the final flush
        }
    }

    private void scheduledFlush() {
        long delay;
        try {
            flushNow();
            failedAttempts = 0;
            delay = interval.toMillis();
        } catch (RuntimeException e) {
            // logged by the outage log; every exception is caught, or the schedule would end
            delay = backoff.apply(++failedAttempts);
        }
        schedule(delay);
    }

    /** Guarded by flushLock. */
    private int flush() {
        try {
            ChangeBatch batch = store.changes();
            merge(batch.counters());
            long now = clock.millis();
            List<SnapshotRow> rows = new ArrayList<>(pending.size());
            for (CounterSnapshot snapshot : pending.values()) {
                rows.add(SnapshotRow.of(snapshot, now));
            }
            rows.sort(PRIMARY_KEY_ORDER);
            if (!rows.isEmpty()) {
                write(rows);
            }
            if (store instanceof FlushAware aware) {
                try {
                    aware.flushed(batch.sequence());
                } catch (RuntimeException e) {
                    LOG.debug("Tollgate snapshot flush: the store failed to take the flushed batch", e);
                }
            }
            pending.clear();
            pendingCount = 0;
            dropped = 0;
            dropLogged = false;
            lastSuccessfulFlush = Instant.ofEpochMilli(now);
            flushes.incrementAndGet();
            countersWritten.addAndGet(rows.size());
            outage.succeeded("Wrote " + rows.size() + " counter values.");
            report(true);
            return rows.size();
        } catch (RuntimeException e) {
            failedFlushes.incrementAndGet();
            outage.failed(e, "Keeping " + pending.size() + " counter values and retrying with backoff");
            report(false);
            if (e instanceof TollgateException) {
                throw e;
            }
            throw new StoreException("Tollgate snapshot flush failed: " + SqlErrors.describe(e), e);
        }
    }

    private void report(boolean succeeded) {
        try {
            listener.flushed(succeeded, lastSuccessfulFlush, pendingCount);
        } catch (RuntimeException e) {
            // a listener must not break a flush
        }
    }

    private void merge(List<CounterSnapshot> changed) {
        for (CounterSnapshot snapshot : changed) {
            if (!SnapshotRow.fits(snapshot.counter())) {
                if (unfit.getAndIncrement() == 0) {
                    String counter = snapshot.counter().toString();
                    LOG.warn("Tollgate snapshot flush: counter {} has a holder id longer than {} or a window id longer "
                            + "than {} characters and is never persisted (logged for the first such counter only)",
                            counter.length() > 100 ? counter.substring(0, 100) + "..." : counter,
                            SnapshotRow.MAX_HOLDER_ID, SnapshotRow.MAX_WINDOW_ID);
                }
                continue;
            }
            pending.merge(new PendingKey(snapshot.counter(), snapshot.window().startMillis()), snapshot,
                    (held, fresh) -> fresh.version() >= held.version() ? fresh : held);
        }
        if (pending.size() > maxPending) {
            dropped += dropOldest(pending.size() - maxPending);
        }
        pendingCount = pending.size();
    }

    /** Drops the values of the windows that ended first: they matter least, and never for a restore. */
    private int dropOldest(int count) {
        List<Map.Entry<PendingKey, CounterSnapshot>> entries = new ArrayList<>(pending.entrySet());
        entries.sort(Comparator.comparingLong(entry -> entry.getValue().window().endMillis()));
        for (int i = 0; i < count; i++) {
            pending.remove(entries.get(i).getKey());
        }
        if (!dropLogged) {
            dropLogged = true;
            LOG.warn("Tollgate snapshot flush: more than {} counter values pending; dropping those whose windows ended "
                    + "first ({} now), until a flush succeeds; logged once per outage.", maxPending, count);
        }
        return count;
    }

    private void write(List<SnapshotRow> rows) {
        try {
            upsert(rows);
        } catch (JdbiException e) {
            if (!SqlErrors.isLockConflict(e)) {
                throw e;
            }
            // sorted rows should make this impossible between flushers; another writer may still interleave
            lockConflictRetries.incrementAndGet();
            LOG.debug("Tollgate snapshot flush: lock conflict, retrying once: {}", SqlErrors.describe(e));
            upsert(rows);
        }
    }

    private void upsert(List<SnapshotRow> rows) {
        // READ COMMITTED: no gap locks on the index ranges scanned, so fewer lock waits between replicas
        jdbi.useTransaction(TransactionIsolationLevel.READ_COMMITTED,
                handle -> handle.attach(SnapshotDao.class).upsertSnapshots(rows));
    }

    /** Compares as the utf8mb4_nopad_bin collation does: by code point, not by UTF-16 unit. */
    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) {
                return Integer.compare(x, y);
            }
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    private record PendingKey(CounterId counter, long windowStart) {
    }

    /**
     * What a flusher did so far. Immutable and thread-safe.
     *
     * @param lastSuccessfulFlush when the last flush succeeded, or null if none has
     * @param pending counter values waiting to be written (non-zero while the database is unreachable)
     * @param countersWritten counter values written, over all flushes
     * @param flushes successful flushes
     * @param failedFlushes failed flush attempts
     * @param outages outages begun (runs of failed attempts), each logged once at WARN
     * @param lockConflictRetries flushes retried after a deadlock or lock wait timeout
     * @param dropped values given up since the last successful flush because more than
     *                {@link Builder#maxPending(int)} were pending (0 once a flush succeeds)
     * @param unfit counter values never written because an id did not fit its column
     */
    public record Stats(Instant lastSuccessfulFlush, int pending, long countersWritten, long flushes, long failedFlushes,
                        long outages, long lockConflictRetries, long dropped, long unfit) {
    }

    /** Options of a {@link SnapshotFlusher}; not thread-safe. */
    public static final class Builder {
        private final GovernanceStore store;
        private final DataSource dataSource;
        private Duration interval = Duration.ofSeconds(10);
        private Duration initialBackoff = Duration.ofSeconds(1);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private int maxPending = 1_000_000;
        private Clock clock = Clock.systemUTC();
        private TollgateListener listener = TollgateListener.NOOP;

        private Builder(GovernanceStore store, DataSource dataSource) {
            this.store = Objects.requireNonNull(store, "store");
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        }

        /** Time between flushes; 10 seconds by default. */
        public Builder interval(Duration interval) {
            this.interval = positive("interval", interval);
            return this;
        }

        /**
         * The first and the longest delay between retries after a failed flush, before jitter; 1 and 30 seconds by
         * default.
         */
        public Builder retryBackoff(Duration initial, Duration max) {
            positive("retryBackoff initial", initial);
            positive("retryBackoff max", max);
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("retryBackoff max: " + max + " is less than the initial " + initial);
            }
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /** The most counter values kept while the database is unreachable; 1,000,000 by default. */
        public Builder maxPending(int maxPending) {
            if (maxPending <= 0) {
                throw new IllegalArgumentException("maxPending: " + maxPending + " must be positive");
            }
            this.maxPending = maxPending;
            return this;
        }

        /** The clock of {@code updated_at} and of the statistics; the system UTC clock by default. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Told of every flush attempt (for a flush-lag metric); none by default. */
        public Builder listener(TollgateListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** A flusher, not started: call {@link SnapshotFlusher#start()}. */
        public SnapshotFlusher build() {
            return new SnapshotFlusher(this);
        }

        private static Duration positive(String field, Duration value) {
            if (value == null || value.isNegative() || value.isZero() || value.toMillis() == 0) {
                throw new IllegalArgumentException(field + ": " + value + " must be at least 1 ms");
            }
            return value;
        }
    }
}
