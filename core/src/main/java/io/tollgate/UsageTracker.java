package io.tollgate;

import io.tollgate.internal.Checks;
import io.tollgate.internal.Futures;
import io.tollgate.internal.LimitResolver;
import io.tollgate.internal.Listeners;
import io.tollgate.internal.ResolverCache;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.GovernanceStore;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The charge after the upstream call: applies one {@link UsageUpdate} to every level of its request in one atomic
 * store call, once per request id and chunk across every replica. The rules of what is charged are on
 * {@link UsageUpdate}.
 *
 * <p>With a {@link Reservation} the charge uses exactly the limits that were checked and, when the update ends the
 * request, gives back the estimates the check took. Without one, the limits are resolved from the configuration;
 * an unknown virtual key then skips the key's levels but still charges the user and model levels.
 *
 * <p>Each charge that ends is reported to the {@linkplain #withListener listener}.
 *
 * <p>A streamed answer is charged chunk by chunk through {@link #openStream}, which numbers the chunks and settles the
 * reservation once.
 *
 * <p>Thread-safe.
 */
public final class UsageTracker {

    private final GovernanceStore store;
    private final ResolverCache resolvers;
    private final TollgateListener listener;

    private UsageTracker(GovernanceStore store, Supplier<GovernanceConfig> config) {
        this(Objects.requireNonNull(store, "store"), new ResolverCache(config), TollgateListener.NOOP);
    }

    private UsageTracker(GovernanceStore store, ResolverCache resolvers, TollgateListener listener) {
        this.store = store;
        this.resolvers = resolvers;
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    public static UsageTracker create(GovernanceStore store, GovernanceConfig config) {
        Objects.requireNonNull(config, "config");
        return new UsageTracker(store, () -> config);
    }

    /** A tracker over a configuration that may change; {@code config} is asked on every charge. */
    public static UsageTracker create(GovernanceStore store, Supplier<GovernanceConfig> config) {
        return new UsageTracker(store, config);
    }

    /** This tracker, reporting every charge to {@code listener} (for metrics; it must not block). */
    public UsageTracker withListener(TollgateListener listener) {
        return new UsageTracker(store, resolvers, listener);
    }

    /** Charges and waits. Throws {@link StoreException} when the store cannot answer. */
    public ChargeOutcome charge(UsageUpdate update) {
        return Futures.join(chargeAsync(update));
    }

    /** {@link #charge} without blocking; completes exceptionally with {@link StoreException}. */
    public CompletionStage<ChargeOutcome> chargeAsync(UsageUpdate update) {
        Objects.requireNonNull(update, "update");
        CounterOps ops = operations(update);
        if (ops == null) {
            return reported(update, null, CompletableFuture.completedFuture(ChargeOutcome.NOTHING_TO_CHARGE));
        }
        return reported(update, ops, store.charge(update.idempotencyKey(), ops)
                .thenApply(result -> result == ChargeResult.APPLIED ? ChargeOutcome.CHARGED : ChargeOutcome.DUPLICATE));
    }

    /** {@code charge}, telling the listener once it ends. */
    private CompletionStage<ChargeOutcome> reported(UsageUpdate update, CounterOps ops,
                                                    CompletionStage<ChargeOutcome> charge) {
        if (listener == TollgateListener.NOOP) {
            return charge;
        }
        return charge.whenComplete((outcome, failure) -> report(update, ops, outcome, failure));
    }

    private void report(UsageUpdate update, CounterOps ops, ChargeOutcome outcome, Throwable failure) {
        List<Limit> limits = ops == null ? List.of() : ops.limits();
        if (failure != null) {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            Listeners.safely(() -> listener.chargeFailed(limits, cause));
            return;
        }
        boolean usage = outcome == ChargeOutcome.CHARGED && update.chargesUsage();
        Listeners.safely(() -> listener.charged(outcome, limits, usage ? update.tokens() : 0,
                usage ? update.cost() : Money.ZERO));
    }

    /**
     * Opens the charges of a streamed answer to a request that {@code decision} admitted: each chunk that carries
     * usage is charged as it passes, the last one (or {@link UsageStream#close()}) settles the decision's reservation.
     * The charges go to the limits the check resolved, so the stream needs neither the secret nor the rest of the
     * request. Costs no store call.
     *
     * @param requestId the request's id, unique per request: chunks are charged once per {@code requestId#chunk}
     * @throws IllegalArgumentException if the decision was denied, naming its outcome, or the request id is blank
     */
    public UsageStream openStream(Decision decision, String requestId) {
        Objects.requireNonNull(decision, "decision");
        Checks.notBlank("requestId", requestId);
        if (!decision.allowed()) {
            throw new IllegalArgumentException("decision: " + decision.outcome()
                    + " is a denial; only an allowed decision opens a usage stream");
        }
        Reservation reservation = decision.reservation().orElseThrow(() -> new IllegalArgumentException("decision: "
                + decision + " holds no reservation; only a decision of BudgetResolver opens a usage stream"));
        return new UsageStream(this, reservation, requestId);
    }

    /**
     * The counter operations for {@code update}, over the resolved list itself; null when there is nothing to charge
     * and no reservation to settle.
     */
    CounterOps operations(UsageUpdate update) {
        Reservation reservation = update.reservation();
        List<Limit> limits = reservation != null ? reservation.limits() : resolve(update);
        boolean usage = update.chargesUsage();
        boolean ends = update.endsRequest();
        int n = limits.size();
        long[] amounts = new long[n];
        boolean any = false;
        for (int i = 0; i < n; i++) {
            long amount = switch (limits.get(i).metric()) {
                // the request was counted at check time when a check was made
                case REQUESTS -> reservation == null && ends ? 1 : 0;
                case TOKENS -> usage ? update.tokens() : 0;
                case COST -> usage ? update.cost().nanos() : 0;
                // held at check time, given back when the request ends
                case IN_FLIGHT -> 0;
            };
            amounts[i] = amount;
            any |= amount > 0;
        }
        String settles = reservation != null && ends ? reservation.lease() : null;
        if (!any && settles == null) {
            return null;
        }
        return CounterOps.of(limits, amounts, new long[n]).settling(settles);
    }

    private List<Limit> resolve(UsageUpdate update) {
        LimitResolver resolver = resolvers.current();
        VirtualKey key = update.virtualKey() == null ? null
                : resolver.virtualKey(update.virtualKey());
        return resolver.limits(key, update.userId(), update.provider(), update.model());
    }
}
