package io.tollgate.resilience;

import io.tollgate.TollgateListener;
import io.tollgate.internal.Listeners;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.SnapshotSource;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link SnapshotSource} that reports every restore: pass it to the Redis store in place of the source it wraps,
 * and to the {@link ResilientGovernanceStore} in front of that store.
 *
 * <pre>{@code
 * RestoreWatch restores = RestoreWatch.of(JdbcSnapshotSource.create(dataSource));
 * RedisGovernanceStore redis = RedisGovernanceStore.builder(client)
 *         .options(RedisStoreOptions.builder().snapshotSource(restores).build())
 *         .build();
 * ResilientGovernanceStore store = ResilientGovernanceStore.builder(redis).restoreWatch(restores).build();
 * }</pre>
 *
 * A store asks its snapshot source only when it found its data lost, right before it restores; so each call is a
 * restore run. The watch counts them and reports them to its listener ({@link TollgateListener#restoreRun}): the
 * decorator's, unless one was set. Finding the loss and replaying what no snapshot held do not depend on it: the
 * store reports each loss itself ({@link io.tollgate.spi.GovernanceStore#onDataLoss}).
 *
 * <p>Thread-safe.
 */
public final class RestoreWatch implements SnapshotSource {

    private final SnapshotSource source;
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile TollgateListener listener = TollgateListener.NOOP;

    private RestoreWatch(SnapshotSource source) {
        this.source = source;
    }

    /** A watch over {@code source}. */
    public static RestoreWatch of(SnapshotSource source) {
        return new RestoreWatch(Objects.requireNonNull(source, "source"));
    }

    /** Reports restore runs to {@code listener}; the decorator sets its own when it is built with this watch. */
    public RestoreWatch listener(TollgateListener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
        return this;
    }

    /** Sets {@code fallback} as the listener unless one was set. */
    void listenerIfNone(TollgateListener fallback) {
        if (listener == TollgateListener.NOOP) {
            listener = fallback;
        }
    }

    @Override
    public List<CounterSnapshot> currentSnapshots(Instant now) {
        runs.incrementAndGet();
        long start = System.nanoTime();
        try {
            List<CounterSnapshot> snapshots = source.currentSnapshots(now);
            int count = snapshots == null ? 0 : snapshots.size();
            Listeners.safely(() -> listener.restoreRun(count, System.nanoTime() - start, true));
            return snapshots;
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            Listeners.safely(() -> listener.restoreRun(0, System.nanoTime() - start, false));
            throw e;
        }
    }

    /** Restores run so far (failed ones included). */
    public long runs() {
        return runs.get();
    }

    /** Restores whose snapshots could not be read. */
    public long failures() {
        return failures.get();
    }

    @Override
    public String toString() {
        return "RestoreWatch[" + source + "]";
    }
}
