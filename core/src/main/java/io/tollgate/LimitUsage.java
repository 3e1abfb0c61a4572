package io.tollgate;

import java.util.Objects;

/**
 * A limit with its counter's value in the current window. In a {@link Decision}, {@code used} is the value before the
 * check took anything.
 *
 * <p>Immutable and thread-safe.
 */
public record LimitUsage(Limit limit, long used, Window window) {

    public LimitUsage {
        Objects.requireNonNull(limit, "LimitUsage.limit");
        Objects.requireNonNull(window, "LimitUsage.window");
    }

    /** What is left before the maximum, never negative. */
    public long remaining() {
        return Math.max(0, limit.max() - used);
    }
}
