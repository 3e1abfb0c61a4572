package io.tollgate;

import java.time.Instant;
import java.util.Optional;

/**
 * One concrete window of a limit, in epoch milliseconds: {@code startMillis} inclusive, {@code endMillis} exclusive.
 * An end of {@link Long#MAX_VALUE} means the window never ends; such a window also contains {@code Long.MAX_VALUE}
 * itself, the last representable instant.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param startMillis first instant of the window, epoch milliseconds
 * @param endMillis first instant after the window, epoch milliseconds, or {@code Long.MAX_VALUE} for never
 */
public record Window(long startMillis, long endMillis) {

    /** @throws IllegalArgumentException unless {@code startMillis < endMillis} */
    public Window {
        if (startMillis >= endMillis) {
            throw new IllegalArgumentException(
                    "a window must start before it ends, got [" + startMillis + ", " + endMillis + ")");
        }
    }

    /** Whether the window never ends. */
    public boolean isUnbounded() {
        return endMillis == Long.MAX_VALUE;
    }

    /** Whether the instant, in epoch milliseconds, falls in this window. */
    public boolean contains(long millis) {
        return millis >= startMillis && (millis < endMillis || endMillis == Long.MAX_VALUE);
    }

    /** The first instant of the window. */
    public Instant start() {
        return Instant.ofEpochMilli(startMillis);
    }

    /** The first instant after the window, or empty if it never ends. */
    public Optional<Instant> end() {
        return isUnbounded() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(endMillis));
    }

    @Override
    public String toString() {
        return "[" + start() + ", " + (isUnbounded() ? "forever" : Instant.ofEpochMilli(endMillis)) + ")";
    }
}
