package io.tollgate.jdbc.internal;

import io.tollgate.CounterId;
import io.tollgate.Holder;
import io.tollgate.HolderKind;
import io.tollgate.Metric;
import io.tollgate.Window;
import io.tollgate.spi.CounterSnapshot;

/** One row of {@code tollgate_usage_snapshot}; instants are epoch milliseconds. Immutable and thread-safe. */
public record SnapshotRow(String holderKind, String holderId, String metric, String windowId, long windowStart,
                          long windowEnd, long amount, long version, long updatedAt) {

    /** Column widths of the schema, in characters. */
    public static final int MAX_HOLDER_ID = 512;
    public static final int MAX_WINDOW_ID = 100;

    public static SnapshotRow of(CounterSnapshot snapshot, long updatedAt) {
        CounterId counter = snapshot.counter();
        return new SnapshotRow(counter.holder().kind().name(), counter.holder().id(), counter.metric().name(),
                counter.windowId(), snapshot.window().startMillis(), snapshot.window().endMillis(), snapshot.value(),
                snapshot.version(), updatedAt);
    }

    /** Whether the counter's texts fit the columns; one that does not is never written (it would fail the batch). */
    public static boolean fits(CounterId counter) {
        String id = counter.holder().id();
        return id.codePointCount(0, id.length()) <= MAX_HOLDER_ID && counter.windowId().length() <= MAX_WINDOW_ID;
    }

    /** @throws IllegalArgumentException if a column holds what this version does not know */
    public CounterId counterId() {
        return new CounterId(new Holder(HolderKind.valueOf(holderKind), holderId), Metric.valueOf(metric), windowId);
    }

    public Window window() {
        return new Window(windowStart, windowEnd);
    }

    public CounterSnapshot toSnapshot() {
        return new CounterSnapshot(counterId(), window(), amount, version);
    }
}
