package io.tollgate.spi;

import java.util.List;

/**
 * What {@link GovernanceStore#changes()} handed out: the counters that may have changed since the previous batch,
 * with their absolute values and versions, and the batch's sequence number (from 1, one more per batch).
 *
 * <p>Immutable and thread-safe.
 */
public record ChangeBatch(List<CounterSnapshot> counters, long sequence) {

    public ChangeBatch {
        counters = List.copyOf(counters);
    }
}
