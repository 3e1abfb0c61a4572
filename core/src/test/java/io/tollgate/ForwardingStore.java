package io.tollgate;

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

/** A store that passes every call to another; a test overrides the calls it watches or breaks. Thread-safe as its delegate. */
class ForwardingStore implements GovernanceStore {

    private final GovernanceStore delegate;

    ForwardingStore(GovernanceStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
        return delegate.reserve(ops);
    }

    @Override
    public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
        return delegate.charge(idempotencyKey, ops);
    }

    @Override
    public CompletionStage<List<CounterState>> read(List<Limit> limits) {
        return delegate.read(limits);
    }

    @Override
    public ChangeBatch changes() {
        return delegate.changes();
    }

    @Override
    public void restore(Collection<CounterSnapshot> snapshots) {
        delegate.restore(snapshots);
    }

    @Override
    public Duration leaseDuration() {
        return delegate.leaseDuration();
    }

    @Override
    public CompletionStage<Boolean> extendLease(String lease) {
        return delegate.extendLease(lease);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
