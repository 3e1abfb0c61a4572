package io.tollgate;

import java.util.Objects;

/**
 * One limit that applies to a request: who holds it, what it counts, its maximum and how its windows are laid out.
 * A request resolves to a flat list of these; the check, the charge and the metrics all use that same list.
 *
 * <p>{@code max} is a count of requests, a count of tokens, or nanodollars for {@link Metric#COST}. {@code leased} marks
 * a limit that a store with leased admission may admit from slices a replica holds (see the Redis store's
 * {@code LeasedAdmission}); it changes how a decision is reached, never the count.
 *
 * <p>Immutable and thread-safe.
 */
public record Limit(Holder holder, Metric metric, long max, WindowSpec window, boolean leased) {

    public Limit {
        Objects.requireNonNull(holder, "Limit.holder");
        Objects.requireNonNull(metric, "Limit.metric");
        Objects.requireNonNull(window, "Limit.window");
        if (max <= 0) {
            throw new IllegalArgumentException("Limit.max: " + max + " must be positive (holder " + holder + ", " + metric + ")");
        }
    }

    /** A limit not marked for leased admission. */
    public Limit(Holder holder, Metric metric, long max, WindowSpec window) {
        this(holder, metric, max, window, false);
    }

    /** Two limits with the same counter share one count: same holder, metric and window layout. */
    public CounterId counterId() {
        return new CounterId(holder, metric, window.id());
    }

    @Override
    public String toString() {
        return holder + " " + metric + " max " + max + " per " + window.id();
    }
}
