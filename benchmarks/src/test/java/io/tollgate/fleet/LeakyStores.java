package io.tollgate.fleet;

import io.tollgate.Limit;
import io.tollgate.memory.InMemoryGovernanceStore;
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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A deliberately broken store, as counters kept per replica would be: every reservation is admitted, full or not.
 * The fleet must catch it.
 */
final class LeakyStores extends Fleet.Stores {

    private final InMemoryGovernanceStore counters = InMemoryGovernanceStore.create();
    private final GovernanceStore leaky = new GovernanceStore() {
        @Override
        public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
            ReserveResult result = counters.reserveNow(ops);
            if (!result.admitted()) {
                counters.chargeNow(UUID.randomUUID().toString(),
                        ops.stream().map(op -> CounterOp.add(op.limit(), op.total())).toList());
            }
            return CompletableFuture.completedFuture(new ReserveResult(true, result.counters(),
                    result.storeTimeMillis()));
        }

        @Override
        public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
            return counters.charge(idempotencyKey, ops);
        }

        @Override
        public CompletionStage<List<CounterState>> read(List<Limit> limits) {
            return counters.read(limits);
        }

        @Override
        public ChangeBatch changes() {
            return counters.changes();
        }

        @Override
        public Duration leaseDuration() {
            return counters.leaseDuration();
        }

        @Override
        public CompletionStage<Boolean> extendLease(String lease) {
            return counters.extendLease(lease);
        }

        @Override
        public void restore(Collection<CounterSnapshot> snapshots) {
            counters.restore(snapshots);
        }

        @Override
        public void close() {
        }
    };

    @Override
    GovernanceStore store(int replica) {
        return leaky;
    }

    @Override
    String description() {
        return "a store that admits every request";
    }

    @Override
    public void close() {
    }
}
