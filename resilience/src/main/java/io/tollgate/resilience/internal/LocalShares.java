package io.tollgate.resilience.internal;

import io.tollgate.Limit;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientStoreOptions;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.ReserveResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The answers of the failure policies while the primary cannot answer. {@link FailurePolicy#LOCAL} limits are counted
 * in an {@link InMemoryGovernanceStore} of this replica, each with its share of the maximum: the in-memory store
 * keeps the same window layouts as the primary (on the local clock), checks a request's whole list atomically and
 * holds estimates under leases that the charge settles, which a token-bucket rate limiter per limit could not.
 * Leases of these shares are named with {@value #LOCAL_LEASE} in front, so that the resilient store settles them
 * here and never sends them to the primary.
 *
 * <p>Thread-safe, as the in-memory store is.
 */
public final class LocalShares implements AutoCloseable {

    private static final String LOCAL_LEASE = "local-share:";

    private final ResilientStoreOptions options;
    private final InMemoryGovernanceStore local;

    public LocalShares(ResilientStoreOptions options, Duration leaseDuration) {
        this.options = options;
        // keys of charges made during an outage: an hour is plenty to recognise a retried one
        this.local = InMemoryGovernanceStore.builder().clock(options.clock())
                .idempotencyKeyLifetime(Duration.ofHours(1)).leaseDuration(leaseDuration).build();
    }

    /** Whether {@code lease} is one of these shares' (false for null). */
    public static boolean isLocal(String lease) {
        return lease != null && lease.startsWith(LOCAL_LEASE);
    }

    /** What a reservation took for good (its request slots), as a charge: its holds are the shares' own affair. */
    public static CounterOps kept(List<CounterOp> reservation) {
        CounterOps ops = CounterOps.from(reservation);
        long[] amounts = new long[ops.size()];
        for (int i = 0; i < amounts.length; i++) {
            amounts[i] = ops.amount(i);
        }
        return CounterOps.of(ops.limits(), amounts, new long[amounts.length]);
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
                localOps.add(new CounterOp(share(op.limit()), op.amount(), op.hold()));
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
        boolean admitted = shares == null || shares.admitted();
        String lease = shares == null || shares.lease() == null ? null : LOCAL_LEASE + shares.lease();
        return ReserveResult.degraded(admitted, states, now, admitted ? lease : null);
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

    /** Gives back what a lease of these shares holds, once. */
    public void settle(String lease) {
        local.chargeNow(lease, CounterOps.empty().settling(lease.substring(LOCAL_LEASE.length())));
    }

    /** Extends a lease of these shares. */
    public CompletionStage<Boolean> extend(String lease) {
        return local.extendLease(lease.substring(LOCAL_LEASE.length()));
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
