package io.tollgate.redis.internal;

import io.tollgate.Limit;

import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link LimitPlan}s by limit, so the hot path builds no key strings. Bounded: per-user limits can come in millions,
 * so past {@link #MAX_PLANS} the cache starts again empty (a plan is cheap to rebuild; a lost entry costs one string
 * build). Emptied too when the placement's version changes, since a holder's key may then change.
 *
 * <p>Thread-safe.
 */
public final class PlanCache {

    static final int MAX_PLANS = 65_536;

    private final KeySpace keys;
    private final ConcurrentHashMap<Limit, LimitPlan> plans = new ConcurrentHashMap<>();
    private volatile Object version;

    public PlanCache(KeySpace keys) {
        this.keys = keys;
        this.version = keys.placementVersion();
    }

    /** The placement version to pass to {@link #plan} for the calls of one store call. */
    public Object version() {
        Object current = keys.placementVersion();
        if (current != version) {
            // anchors may have moved: drop every plan rather than rebuild them one by one
            plans.clear();
            version = current;
        }
        return current;
    }

    /**
     * The plan of a limit under the placement {@code version} (read before, so a plan labelled with a version was
     * built with that placement or a newer one, and is rebuilt when in doubt).
     */
    public LimitPlan plan(Limit limit, Object version) {
        LimitPlan plan = plans.get(limit);
        if (plan != null && plan.placementVersion() == version) {
            return plan;
        }
        if (plans.size() >= MAX_PLANS) {
            plans.clear();
        }
        LimitPlan built = new LimitPlan(limit, keys.counterBase(limit.counterId()), keys.tagOf(limit.holder()),
                version);
        plans.put(limit, built);
        return built;
    }
}
