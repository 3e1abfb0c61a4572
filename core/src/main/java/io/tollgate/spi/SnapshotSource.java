package io.tollgate.spi;

import java.time.Instant;
import java.util.List;

/**
 * Where a store finds the last persisted counter values when it has lost its own (a Redis restarted without
 * persistence, say). Implemented by persistent snapshot stores such as the JDBC store.
 *
 * <p>Implementations must be thread-safe.
 */
@FunctionalInterface
public interface SnapshotSource {

    /** Every persisted counter whose window contains {@code now}. */
    List<CounterSnapshot> currentSnapshots(Instant now);
}
