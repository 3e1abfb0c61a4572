package io.tollgate;

import io.tollgate.internal.Futures;
import io.tollgate.internal.LimitResolver;
import io.tollgate.internal.ResolverCache;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.ReserveResult;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The check before the upstream call. In order, the first failure wins: the virtual key must exist
 * ({@link Outcome#VIRTUAL_KEY_NOT_FOUND}), be active and unexpired ({@link Outcome#VIRTUAL_KEY_BLOCKED}), allow the
 * provider ({@link Outcome#PROVIDER_BLOCKED}) and the model ({@link Outcome#MODEL_BLOCKED}); then every limit of the
 * request is checked in one atomic store call, which takes one request slot at every level (and the estimates) only
 * if every limit has room.
 *
 * <p>When the store could not answer and its failure policy decided instead (see
 * {@link ReserveResult#status()}), the decision says so: {@link Decision#degraded()} is true, and a policy that denies
 * because the store is unavailable gives {@link Outcome#STORE_UNAVAILABLE} (HTTP 503) with a short
 * {@link Decision#retryAfter()}. Every decision is reported to the {@linkplain #withListener listener}.
 *
 * <p>Thread-safe. The configuration is read from its source on every check, so a new configuration applies to the
 * next check. Expiry of virtual keys is judged on the injected {@link Clock}; windows on the store's clock.
 */
public final class BudgetResolver {

    /** When a request denied by in-flight limits only is told to try again. */
    private static final long IN_FLIGHT_RETRY_MILLIS = 1_000;

    private final GovernanceStore store;
    private final Supplier<GovernanceConfig> config;
    private final ResolverCache resolvers;
    private final Clock clock;
    private final TollgateListener listener;

    private BudgetResolver(GovernanceStore store, Supplier<GovernanceConfig> config, Clock clock,
                           TollgateListener listener) {
        this.store = Objects.requireNonNull(store, "store");
        this.config = Objects.requireNonNull(config, "config");
        this.resolvers = new ResolverCache(config);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /** A resolver over a fixed configuration, on the system clock. */
    public static BudgetResolver create(GovernanceStore store, GovernanceConfig config) {
        Objects.requireNonNull(config, "config");
        return new BudgetResolver(store, () -> config, Clock.systemUTC(), TollgateListener.NOOP);
    }

    /**
     * A resolver over a configuration that may change: {@code config} is asked on every check and should be cheap
     * (return a held reference).
     */
    public static BudgetResolver create(GovernanceStore store, Supplier<GovernanceConfig> config, Clock clock) {
        return new BudgetResolver(store, config, clock, TollgateListener.NOOP);
    }

    /** This resolver, reporting every decision to {@code listener} (for metrics; it must not block). */
    public BudgetResolver withListener(TollgateListener listener) {
        return new BudgetResolver(store, config, clock, listener);
    }

    /** Checks and, when allowed, reserves. Throws {@link StoreException} when the store cannot answer. */
    public Decision check(CheckRequest request) {
        return Futures.join(checkAsync(request));
    }

    /** {@link #check} without blocking; completes exceptionally with {@link StoreException}. */
    public CompletionStage<Decision> checkAsync(CheckRequest request) {
        CompletionStage<Decision> decision = decideAsync(request);
        if (listener == TollgateListener.NOOP) {
            return decision;
        }
        return decision.thenApply(this::report);
    }

    private Decision report(Decision decision) {
        try {
            listener.decided(decision);
        } catch (RuntimeException e) {
            // a listener must not change a decision
        }
        return decision;
    }

    private CompletionStage<Decision> decideAsync(CheckRequest request) {
        Objects.requireNonNull(request, "request");
        LimitResolver resolver = resolvers.current();
        VirtualKey key = null;
        if (request.virtualKey() != null) {
            Instant now = clock.instant();
            key = resolver.virtualKey(request.virtualKey());
            if (key == null) {
                return CompletableFuture.completedFuture(Decision.refused(Outcome.VIRTUAL_KEY_NOT_FOUND, now));
            }
            if (key.isBlockedAt(now)) {
                return CompletableFuture.completedFuture(Decision.refused(Outcome.VIRTUAL_KEY_BLOCKED, now));
            }
            switch (LimitResolver.providerVerdict(key, request.provider(), request.model())) {
                case PROVIDER_BLOCKED:
                    return CompletableFuture.completedFuture(Decision.refused(Outcome.PROVIDER_BLOCKED, now));
                case MODEL_BLOCKED:
                    return CompletableFuture.completedFuture(Decision.refused(Outcome.MODEL_BLOCKED, now));
                default:
                    break;
            }
        }
        LimitResolver.Resolved resolved = resolver.resolved(key, request.userId(), request.provider(),
                request.model());
        List<Limit> limits = resolved.limits();
        if (limits.isEmpty()) {
            Instant now = clock.instant();
            return CompletableFuture.completedFuture(new Decision(Outcome.ALLOWED, List.of(), null, null, now,
                    new Reservation(List.of(), new long[0], null)));
        }
        CounterOps ops = resolved.reserveOps(request.estimatedTokens(), request.estimatedCost().nanos());
        return store.reserve(ops).thenApply(result -> decide(limits, ops, result));
    }

    private static Decision decide(List<Limit> limits, CounterOps ops, ReserveResult result) {
        if (result.isUnavailable()) {
            Instant decidedAt = Instant.ofEpochMilli(result.storeTimeMillis());
            Duration retry = result.retryAfter();
            return new Decision(Outcome.STORE_UNAVAILABLE, List.of(), null, decidedAt.plus(retry), decidedAt, null,
                    true);
        }
        boolean degraded = result.isDegraded();
        List<CounterState> counters = result.counters();
        if (counters.size() != limits.size()) {
            throw new TollgateException("store answered " + counters.size() + " counters for " + limits.size() + " limits");
        }
        Instant decidedAt = Instant.ofEpochMilli(result.storeTimeMillis());
        List<LimitUsage> usages = new ArrayList<>(counters.size());
        for (CounterState counter : counters) {
            usages.add(new LimitUsage(counter.limit(), counter.used(), counter.window()));
        }
        if (result.admitted()) {
            long[] taken = new long[ops.size()];
            for (int i = 0; i < taken.length; i++) {
                taken[i] = ops.amount(i) + ops.hold(i);
            }
            return new Decision(Outcome.ALLOWED, List.copyOf(usages), null, null, decidedAt,
                    new Reservation(limits, taken, result.lease()), degraded);
        }
        return denial(usages, ops, decidedAt, degraded);
    }

    private static Decision denial(List<LimitUsage> usages, CounterOps ops, Instant decidedAt,
                                   boolean degraded) {
        LimitUsage firstRequest = null;
        LimitUsage firstToken = null;
        LimitUsage firstCost = null;
        LimitUsage firstInFlight = null;
        long resetAt = Long.MIN_VALUE;
        for (int i = 0; i < usages.size(); i++) {
            LimitUsage usage = usages.get(i);
            if (CounterOp.fits(usage.used(), ops.amount(i) + ops.hold(i), usage.limit().max())) {
                continue;
            }
            if (usage.limit().metric() == Metric.IN_FLIGHT) {
                // no window to wait for: a slot frees when a request ends
                firstInFlight = firstInFlight == null ? usage : firstInFlight;
                continue;
            }
            resetAt = Math.max(resetAt, usage.window().endMillis());
            switch (usage.limit().metric()) {
                case REQUESTS -> firstRequest = firstRequest == null ? usage : firstRequest;
                case TOKENS -> firstToken = firstToken == null ? usage : firstToken;
                case COST -> firstCost = firstCost == null ? usage : firstCost;
                case IN_FLIGHT -> throw new AssertionError("counted above");
            }
        }
        Outcome outcome;
        LimitUsage deniedBy;
        if (firstRequest != null) {
            outcome = firstToken != null ? Outcome.RATE_LIMITED : Outcome.REQUEST_LIMITED;
            deniedBy = firstRequest;
        } else if (firstToken != null) {
            outcome = Outcome.TOKEN_LIMITED;
            deniedBy = firstToken;
        } else if (firstCost != null) {
            outcome = Outcome.BUDGET_EXCEEDED;
            deniedBy = firstCost;
        } else if (firstInFlight != null) {
            // only in-flight limits are full: a slot may free at any moment
            outcome = Outcome.IN_FLIGHT_LIMITED;
            deniedBy = firstInFlight;
            resetAt = decidedAt.toEpochMilli() + IN_FLIGHT_RETRY_MILLIS;
        } else {
            throw new TollgateException("store refused a reservation although every counter had room");
        }
        Instant reset = resetAt == Long.MAX_VALUE || resetAt == Long.MIN_VALUE ? null : Instant.ofEpochMilli(resetAt);
        return new Decision(outcome, List.copyOf(usages), deniedBy, reset, decidedAt, null, degraded);
    }
}
