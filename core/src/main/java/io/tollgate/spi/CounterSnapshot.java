package io.tollgate.spi;

import io.tollgate.CounterId;
import io.tollgate.Window;

import java.util.Objects;

/**
 * The absolute value of one counter in one window: what a flush persists and a restore puts back.
 *
 * <p>Immutable and thread-safe.
 */
public record CounterSnapshot(CounterId counter, Window window, long value) {

    public CounterSnapshot {
        Objects.requireNonNull(counter, "CounterSnapshot.counter");
        Objects.requireNonNull(window, "CounterSnapshot.window");
        if (value < 0) {
            throw new IllegalArgumentException("CounterSnapshot.value: " + value + " must not be negative (" + counter + ")");
        }
    }
}
