package io.tollgate.spi;

import io.tollgate.Limit;

import java.time.Instant;

/**
 * A store's report that it lost its data (a Redis restarted without persistence, flushed, or a Cluster master
 * replaced by an empty node) and restored what its snapshots held. The counters it names hold, from then on, their
 * snapshot values plus what was applied after the restore; what was applied before the loss and not yet persisted is
 * gone, and a decorator that kept it replays it.
 *
 * <p>A store reports each loss once to each listener, before it completes the first call it answers from the
 * restored data, so every answer a listener saw before the report came from the data that was lost.
 *
 * <p>Implementations are immutable and thread-safe.
 */
public interface DataLoss {

    /** Whether the counters of {@code limit} were among those lost. */
    boolean affects(Limit limit);

    /** When the store found the loss, on its own clock. */
    Instant detectedAt();

    /** What was lost, for logs: "Redis", "3 of 1024 hash tags", ... */
    String scope();
}
