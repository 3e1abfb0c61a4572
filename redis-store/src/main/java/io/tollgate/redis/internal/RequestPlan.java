package io.tollgate.redis.internal;

import io.tollgate.Limit;

import java.util.List;

/**
 * One resolved list of limits as the store calls it: its slot groups in ascending tag order (one on standalone
 * Redis), each with the plans of its limits. Built once per list the core passes (by the list's identity) and per
 * placement version, so the hot path builds no key.
 *
 * <p>Immutable and thread-safe.
 */
public final class RequestPlan {

    private final List<Limit> limits;
    private final SlotGroup[] groups;
    private final Object placementVersion;
    private final LimitPlan[] plans;

    RequestPlan(List<Limit> limits, SlotGroup[] groups, Object placementVersion, LimitPlan[] plans) {
        this.limits = limits;
        this.groups = groups;
        this.placementVersion = placementVersion;
        this.plans = plans;
    }

    /** The plan of the limit at {@code index} of the list. */
    public LimitPlan plan(int index) {
        return plans[index];
    }

    public List<Limit> limits() {
        return limits;
    }

    /** The placement version the plan was built with. */
    Object placementVersion() {
        return placementVersion;
    }

    /** The slot groups, in ascending tag order; one, of tag 0, for an empty list, so every call reaches Redis. */
    public SlotGroup[] groups() {
        return groups;
    }
}
