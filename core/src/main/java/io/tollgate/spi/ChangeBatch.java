package io.tollgate.spi;

import java.util.List;

/**
 * The counters changed since a mark, with their absolute values, and the mark to pass next time.
 *
 * <p>Immutable and thread-safe.
 */
public record ChangeBatch(List<CounterSnapshot> counters, long nextMark) {

    public ChangeBatch {
        counters = List.copyOf(counters);
    }
}
