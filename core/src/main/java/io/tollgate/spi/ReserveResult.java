package io.tollgate.spi;

import java.util.List;

/**
 * The outcome of {@link GovernanceStore#reserve}: whether every counter had room (and so every amount was taken),
 * each counter's state before the call in the order of the request, and the store's clock at the time, so that
 * retry times are computed on the clock that lays out the windows.
 *
 * <p>Immutable and thread-safe.
 */
public record ReserveResult(boolean admitted, List<CounterState> counters, long storeTimeMillis) {

    public ReserveResult {
        counters = List.copyOf(counters);
    }
}
