package io.tollgate.redis.internal;

import io.tollgate.Limit;

import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link LimitPlan}s by limit, so the hot path builds no key strings. Bounded: per-user limits can come in millions,
 * so past {@link #MAX_PLANS} the cache starts again empty (a plan is cheap to rebuild; a lost entry costs one string
 * build).
 *
 * <p>Thread-safe.
 */
public final class PlanCache {

    static final int MAX_PLANS = 65_536;

    private final KeySpace keys;
    private final ConcurrentHashMap<Limit, LimitPlan> plans = new ConcurrentHashMap<>();

    public PlanCache(KeySpace keys) {
        this.keys = keys;
    }

    public LimitPlan plan(Limit limit) {
        LimitPlan plan = plans.get(limit);
        if (plan != null) {
            return plan;
        }
        if (plans.size() >= MAX_PLANS) {
            plans.clear();
        }
        return plans.computeIfAbsent(limit, l -> new LimitPlan(l, keys.counterBase(l.counterId())));
    }
}
