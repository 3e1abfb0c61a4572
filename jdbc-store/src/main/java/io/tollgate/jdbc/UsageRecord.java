package io.tollgate.jdbc;

import io.tollgate.Metric;
import io.tollgate.Window;

import java.time.Instant;
import java.util.Objects;

/**
 * A holder's persisted usage in one window of one counter.
 *
 * <p>Immutable and thread-safe.
 *
 * @param metric what was counted; {@link Metric#COST} amounts are nanodollars
 * @param windowId the counter's window layout, {@link io.tollgate.WindowSpec#id()}
 * @param window the window, in epoch milliseconds
 * @param amount the highest value flushed for that window
 * @param updatedAt when the amount last rose
 */
public record UsageRecord(Metric metric, String windowId, Window window, long amount, Instant updatedAt) {

    public UsageRecord {
        Objects.requireNonNull(metric, "UsageRecord.metric");
        Objects.requireNonNull(windowId, "UsageRecord.windowId");
        Objects.requireNonNull(window, "UsageRecord.window");
        Objects.requireNonNull(updatedAt, "UsageRecord.updatedAt");
    }
}
