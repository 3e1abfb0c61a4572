package io.tollgate.resilience.internal;

import io.tollgate.Limit;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientStoreOptions;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.ReserveResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The answers of the failure policies while the primary cannot answer. {@link FailurePolicy#LOCAL} limits are counted
 * in an {@link InMemoryGovernanceStore} of this replica, each with its share of the maximum: the in-memory store
 * keeps the same window layouts as the primary (on the local clock), checks a request's whole list atomically and
 * gives estimates back on the charge, which a token-bucket rate limiter per limit could not.
 *
 * <p>Thread-safe, as the in-memory store is.
 */
public final class LocalShares implements AutoCloseable {

    private final ResilientStoreOptions options;
    private final InMemoryGovernanceStore local;

    public LocalShares(ResilientStoreOptions options) {
        this.options = options;
        // keys of charges made during an outage: an hour is plenty to recognise a retried one
        this.local = InMemoryGovernanceStore.builder().clock(options.clock())
                .idempotencyKeyLifetime(Duration.ofHours(1)).build();
    }

    /**
     * The policy's answer to a reservation: unavailable if any limit fails closed; else admitted when every
     * {@code LOCAL} limit has room in its share (and the share is taken), with fail-open limits read as unused. The
     * counters reported for {@code LOCAL} limits carry the share as their maximum.
     */
    public ReserveResult reserve(List<CounterOp> ops) {
        long now = options.clock().millis();
        int n = ops.size();
        boolean[] local = new boolean[n];
        List<CounterOp> localOps = null;
        for (int i = 0; i < n; i++) {
            CounterOp op = ops.get(i);
            FailurePolicy policy = options.policyOf(op.limit());
            if (policy == FailurePolicy.FAIL_CLOSED) {
                return ReserveResult.unavailable(now, options.unavailableRetryAfter());
            }
            if (policy == FailurePolicy.LOCAL) {
                local[i] = true;
                if (localOps == null) {
                    localOps = new ArrayList<>(n);
                }
                localOps.add(CounterOp.reserve(share(op.limit()), op.amount()));
            }
        }
        ReserveResult shares = localOps == null ? null : this.local.reserveNow(localOps);
        List<CounterState> states = new ArrayList<>(n);
        int j = 0;
        for (int i = 0; i < n; i++) {
            if (local[i]) {
                states.add(shares.counters().get(j++));
            } else {
                Limit limit = ops.get(i).limit();
                states.add(new CounterState(limit, 0, limit.window().windowAt(now)));
            }
        }
        return ReserveResult.degraded(shares == null || shares.admitted(), states, now);
    }

    /** Counts a charge the primary could not take against the local shares of its {@code LOCAL} limits. */
    public void charge(String idempotencyKey, List<CounterOp> ops) {
        List<CounterOp> localOps = null;
        for (CounterOp op : ops) {
            if (options.policyOf(op.limit()) == FailurePolicy.LOCAL) {
                if (localOps == null) {
                    localOps = new ArrayList<>(ops.size());
                }
                localOps.add(op);
            }
        }
        if (localOps != null) {
            local.chargeNow(idempotencyKey, localOps);
        }
    }

    /** The limit with its share of the maximum; same counter, so charges with the full limit count against it. */
    private Limit share(Limit limit) {
        long share = options.shareOf(limit.max());
        return share == limit.max() ? limit : new Limit(limit.holder(), limit.metric(), share, limit.window());
    }

    @Override
    public void close() {
        local.close();
    }
}
