package io.tollgate.spi;

import io.tollgate.Limit;
import io.tollgate.Window;

import java.util.Objects;

/**
 * A limit's counter as a store saw it: the value of its current window before the call, and that window.
 *
 * <p>Immutable and thread-safe.
 */
public record CounterState(Limit limit, long used, Window window) {

    public CounterState {
        Objects.requireNonNull(limit, "CounterState.limit");
        Objects.requireNonNull(window, "CounterState.window");
    }
}
