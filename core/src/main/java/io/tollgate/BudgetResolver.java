package io.tollgate;

import io.tollgate.internal.Futures;
import io.tollgate.internal.LimitResolver;
import io.tollgate.internal.Listeners;
import io.tollgate.internal.NearLimits;
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
import java.util.function.Predicate;
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
 * <p><b>Soft budgets</b>: when an admitted check brings a counter to {@linkplain #withNearLimitRatio 80%} of its
 * limit's maximum or past it, the listener hears {@link TollgateListener#nearLimit} once for that counter and window
 * (this resolver remembers the last {@value NearLimits#MAX_REMEMBERED} counters it reported).
 *
 * <p><b>Shadow mode</b> ({@link #withShadow()}, {@link #withShadow(Predicate)}), for rolling limits out: a shadowed
 * limit is checked and counted but never denies. The store is sent its counter with a maximum no counter reaches, so
 * it counts the request as admitted (the counters keep measuring real demand) and answers each counter's value
 * before the check; from that value and the limit's real maximum the resolver decides whether the limit would have
 * denied, and says so in an allowed decision ({@link Decision#shadowDenied()}). Enforced limits of the same request
 * deny as before, and a request they deny is denied (and counted nowhere, as any denied request). When every limit
 * of a request is shadowed, a store whose failure policy denies (fail closed) does not deny it either.
 * Refusals before the limits (unknown or blocked key, blocked provider or model) are not limits: they still refuse.
 *
 * <p>Thread-safe. The configuration is read from its source on every check, so a new configuration applies to the
 * next check. Expiry of virtual keys is judged on the injected {@link Clock}; windows on the store's clock.
 */
public final class BudgetResolver {

    /** The near-limit ratio unless one is chosen. */
    public static final double DEFAULT_NEAR_LIMIT_RATIO = 0.8;

    /** When a request denied by in-flight limits only is told to try again. */
    private static final long IN_FLIGHT_RETRY_MILLIS = 1_000;

    private final GovernanceStore store;
    private final Supplier<GovernanceConfig> config;
    private final ResolverCache resolvers;
    private final Clock clock;
    private final TollgateListener listener;
    /** The limits checked in shadow; null for none. */
    private final Predicate<Limit> shadow;
    private final double nearLimitRatio;
    /** Null without a listener: nobody to tell. */
    private final NearLimits nearLimits;

    private BudgetResolver(GovernanceStore store, Supplier<GovernanceConfig> config, Clock clock,
                           TollgateListener listener, Predicate<Limit> shadow, double nearLimitRatio) {
        this.store = Objects.requireNonNull(store, "store");
        this.config = Objects.requireNonNull(config, "config");
        this.resolvers = new ResolverCache(config);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.shadow = shadow;
        this.nearLimitRatio = nearLimitRatio;
        this.nearLimits = listener == TollgateListener.NOOP ? null : new NearLimits(nearLimitRatio);
    }

    /** A resolver over a fixed configuration, on the system clock. */
    public static BudgetResolver create(GovernanceStore store, GovernanceConfig config) {
        Objects.requireNonNull(config, "config");
        return new BudgetResolver(store, () -> config, Clock.systemUTC(), TollgateListener.NOOP, null,
                DEFAULT_NEAR_LIMIT_RATIO);
    }

    /**
     * A resolver over a configuration that may change: {@code config} is asked on every check and should be cheap
     * (return a held reference).
     */
    public static BudgetResolver create(GovernanceStore store, Supplier<GovernanceConfig> config, Clock clock) {
        return new BudgetResolver(store, config, clock, TollgateListener.NOOP, null,
                DEFAULT_NEAR_LIMIT_RATIO);
    }

    /** This resolver, reporting every decision to {@code listener} (for metrics; it must not block). */
    public BudgetResolver withListener(TollgateListener listener) {
        return new BudgetResolver(store, config, clock, listener, shadow, nearLimitRatio);
    }

    /** This resolver with every limit in shadow: it decides and reports, and never denies for a limit. */
    public BudgetResolver withShadow() {
        return withShadow(limit -> true);
    }

    /**
     * This resolver with the limits {@code shadowed} accepts in shadow, in place of any chosen before; the others
     * are enforced. {@code limit -> false} enforces every limit again. The predicate is asked once per limit of each
     * request shape and configuration (the answer is kept), so it must depend on the limit only, for example
     * {@code limit -> limit.holder().kind() == HolderKind.CUSTOMER} or {@code limit -> limit.metric() == Metric.TOKENS};
     * to change what is shadowed, build a new resolver. The store, and what sits in front of it, sees a shadowed
     * limit with the maximum {@link Long#MAX_VALUE}, on the same counter as the limit.
     */
    public BudgetResolver withShadow(Predicate<Limit> shadowed) {
        return new BudgetResolver(store, config, clock, listener, Objects.requireNonNull(shadowed, "shadowed"),
                nearLimitRatio);
    }

    /**
     * This resolver, telling its listener of a counter that an admitted check brings to {@code ratio} of its maximum
     * or past it ({@link TollgateListener#nearLimit}); {@value #DEFAULT_NEAR_LIMIT_RATIO} unless chosen. A ratio of 1
     * tells of a limit the check filled.
     *
     * @throws IllegalArgumentException unless {@code 0 < ratio <= 1}
     */
    public BudgetResolver withNearLimitRatio(double ratio) {
        if (!(ratio > 0 && ratio <= 1)) {
            throw new IllegalArgumentException("nearLimitRatio: " + ratio + " must be above 0 and at most 1");
        }
        return new BudgetResolver(store, config, clock, listener, shadow, ratio);
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
        // a listener must not change a decision
        Listeners.safely(() -> listener.decided(decision));
        if (decision.allowed() && !decision.degraded()) {
            reportNearLimits(decision);
        }
        return decision;
    }

    private void reportNearLimits(Decision decision) {
        List<LimitUsage> usages = decision.limits();
        for (int i = 0; i < usages.size(); i++) {
            LimitUsage usage = usages.get(i);
            Limit limit = usage.limit();
            if (limit.metric() == Metric.IN_FLIGHT) {
                continue;
            }
            long taken = decision.taken(i);
            long after = usage.used() > Long.MAX_VALUE - taken ? Long.MAX_VALUE : usage.used() + taken;
            if (nearLimits.firstReached(limit.counterId(), usage.window().startMillis(), after, limit.max())) {
                LimitUsage reached = new LimitUsage(limit, after, usage.window());
                Listeners.safely(() -> listener.nearLimit(reached, nearLimitRatio));
            }
        }
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
        if (resolved.limits().isEmpty()) {
            Instant now = clock.instant();
            return CompletableFuture.completedFuture(new Decision(Outcome.ALLOWED, List.of(), null, null, now,
                    new Reservation(List.of(), new long[0], null)));
        }
        LimitResolver.Resolved checked = shadow == null ? resolved : resolved.shadowing(shadow);
        CounterOps ops = checked.reserveOps(request.estimatedTokens(), request.estimatedCost().nanos());
        return store.reserve(ops).thenApply(result -> decide(checked, ops, result));
    }

    private static Decision decide(LimitResolver.Resolved resolved, CounterOps ops, ReserveResult result) {
        List<Limit> limits = resolved.limits();
        if (result.isUnavailable()) {
            Instant decidedAt = Instant.ofEpochMilli(result.storeTimeMillis());
            if (resolved.shadowsAll()) {
                // no enforced limit could deny: what the failure policy said is only reported
                return new Decision(Outcome.ALLOWED, List.of(), null, null, decidedAt, null, true, null,
                        Outcome.STORE_UNAVAILABLE, null);
            }
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
        boolean[] shadowed = resolved.shadowsAny() ? new boolean[limits.size()] : null;
        List<LimitUsage> usages = new ArrayList<>(counters.size());
        for (int i = 0; i < counters.size(); i++) {
            CounterState counter = counters.get(i);
            // the store's limit for an enforced one (a failure policy may judge by a share of it), the real one for a
            // shadowed one, which the store saw with an unreachable maximum
            Limit limit = resolved.isShadowed(i) ? limits.get(i) : counter.limit();
            usages.add(new LimitUsage(limit, counter.used(), counter.window()));
            if (shadowed != null) {
                shadowed[i] = resolved.isShadowed(i);
            }
        }
        List<LimitUsage> checked = List.copyOf(usages);
        Verdict wouldDeny = shadowed == null ? null : verdict(checked, ops, shadowed, true, decidedAt);
        if (result.admitted()) {
            long[] taken = new long[ops.size()];
            for (int i = 0; i < taken.length; i++) {
                taken[i] = ops.amount(i) + ops.hold(i);
            }
            return allowed(checked, decidedAt, new Reservation(ops.limits(), taken, result.lease()), degraded,
                    shadowed, wouldDeny);
        }
        Verdict denied = verdict(checked, ops, shadowed, false, decidedAt);
        if (denied != null) {
            return new Decision(denied.outcome, checked, denied.deniedBy, denied.resetAt, decidedAt, null, degraded,
                    shadowed, null, null);
        }
        if (wouldDeny != null) {
            // only a shadowed limit refused, its sum passing even the unreachable maximum: nothing was taken
            return allowed(checked, decidedAt, null, degraded, shadowed, wouldDeny);
        }
        throw new TollgateException("store refused a reservation although every counter had room");
    }

    private static Decision allowed(List<LimitUsage> usages, Instant decidedAt, Reservation reservation,
                                    boolean degraded, boolean[] shadowed, Verdict wouldDeny) {
        return new Decision(Outcome.ALLOWED, usages, null, null, decidedAt, reservation, degraded, shadowed,
                wouldDeny == null ? null : wouldDeny.outcome, wouldDeny == null ? null : wouldDeny.deniedBy);
    }

    /** A denial: its outcome, the limit that denied and when every limit without room resets (null for never). */
    private record Verdict(Outcome outcome, LimitUsage deniedBy, Instant resetAt) {
    }

    /**
     * The denial the limits without room make, of the shadowed ones or of the enforced ones as {@code ofShadowed}
     * says; null when each of them has room.
     */
    private static Verdict verdict(List<LimitUsage> usages, CounterOps ops, boolean[] shadowed, boolean ofShadowed,
                                   Instant decidedAt) {
        LimitUsage firstRequest = null;
        LimitUsage firstToken = null;
        LimitUsage firstCost = null;
        LimitUsage firstInFlight = null;
        long resetAt = Long.MIN_VALUE;
        for (int i = 0; i < usages.size(); i++) {
            if ((shadowed != null && shadowed[i]) != ofShadowed) {
                continue;
            }
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
            return null;
        }
        Instant reset = resetAt == Long.MAX_VALUE || resetAt == Long.MIN_VALUE ? null : Instant.ofEpochMilli(resetAt);
        return new Verdict(outcome, deniedBy, reset);
    }
}
