package io.tollgate.fleet;

import io.tollgate.Limit;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.ReserveResult;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;

/**
 * A replica's store as the resolver and tracker see it, counting the calls that reach the store: checks denied
 * before the store (an unknown key, a blocked model) and updates with nothing to charge never get here. Those counts
 * are what Redis calls are divided by.
 *
 * <p>Thread-safe when the store is; the counts are shared by every replica of a run. Closing leaves the store open:
 * the run's {@link Fleet.Stores} closes it.
 */
final class CountingStore implements GovernanceStore {

    /**
     * Calls that reached the stores of a run.
     *
     * <p>Thread-safe.
     */
    static final class Calls {
        final LongAdder reserves = new LongAdder();
        final LongAdder charges = new LongAdder();
    }

    private final GovernanceStore store;
    private final Calls calls;

    CountingStore(GovernanceStore store, Calls calls) {
        this.store = store;
        this.calls = calls;
    }

    @Override
    public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
        calls.reserves.increment();
        return store.reserve(ops);
    }

    @Override
    public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
        calls.charges.increment();
        return store.charge(idempotencyKey, ops);
    }

    @Override
    public CompletionStage<List<CounterState>> read(List<Limit> limits) {
        return store.read(limits);
    }

    @Override
    public ChangeBatch changes() {
        return store.changes();
    }

    @Override
    public Duration leaseDuration() {
        return store.leaseDuration();
    }

    @Override
    public CompletionStage<Boolean> extendLease(String lease) {
        return store.extendLease(lease);
    }

    @Override
    public void restore(Collection<CounterSnapshot> snapshots) {
        store.restore(snapshots);
    }

    @Override
    public void close() {
    }
}
