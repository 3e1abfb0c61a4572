package io.tollgate.spi;

import io.tollgate.CounterId;
import io.tollgate.Window;

import java.util.Objects;

/**
 * The absolute value of one counter in one window, with its version: what a flush persists and a restore puts back.
 * Of two snapshots of the same counter and window, the one with the higher version holds the later value, whichever
 * replica read it and whenever it is written, so a persistent store keeps the value of the highest version ("latest
 * wins", also when flushes race, and a given-back estimate does not survive).
 *
 * <p>Immutable and thread-safe.
 *
 * @param counter the counter
 * @param window  the window of the value
 * @param value   the absolute value, never negative
 * @param version the order of this value among the values of the same counter and window
 */
public record CounterSnapshot(CounterId counter, Window window, long value, long version) {

    public CounterSnapshot {
        Objects.requireNonNull(counter, "CounterSnapshot.counter");
        Objects.requireNonNull(window, "CounterSnapshot.window");
        if (value < 0) {
            throw new IllegalArgumentException("CounterSnapshot.value: " + value + " must not be negative (" + counter + ")");
        }
    }
}
