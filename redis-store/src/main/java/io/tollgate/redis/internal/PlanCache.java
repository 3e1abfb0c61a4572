package io.tollgate.redis.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.tollgate.Limit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The plans of every list, cached by the list's identity and the limits' plans by limit, both bounded: per-user
 * limits can come in millions, and a plan is cheap to build again.
 *
 * <p>Thread-safe.
 */
public final class PlanCache {

    private static final int MAX_LISTS = 65_536;

    private final KeySpace keys;
    private final long retentionMillis;
    // weak keys compare by identity: the core's resolved lists are the keys
    private final Cache<List<Limit>, RequestPlan> lists =
            Caffeine.newBuilder().weakKeys().maximumSize(MAX_LISTS).build();
    private final Cache<Limit, LimitPlan> limits =
            Caffeine.newBuilder().maximumSize(MAX_LISTS).build();
    private volatile Object version;

    public PlanCache(KeySpace keys, long retentionMillis) {
        this.keys = keys;
        this.retentionMillis = retentionMillis;
        this.version = keys.placementVersion();
    }

    /**
     * The plan of {@code limits}; kept for the next call when {@code shared} (the core passes the same list
     * again).
     *
     * @throws IllegalArgumentException if the list names one counter twice
     */
    public RequestPlan plan(List<Limit> limits, boolean shared) {
        Object current = keys.placementVersion();
        if (current != version) {
            // anchors may have moved: every key may change
            this.limits.invalidateAll();
            lists.invalidateAll();
            version = current;
        }
        RequestPlan plan = shared ? lists.getIfPresent(limits) : null;
        if (plan != null && plan.placementVersion() == current) {
            return plan;
        }
        plan = build(limits, current);
        if (shared) {
            lists.put(limits, plan);
        }
        return plan;
    }

    private RequestPlan build(List<Limit> list, Object placementVersion) {
        int n = list.size();
        LimitPlan[] plans = new LimitPlan[n];
        for (int i = 0; i < n; i++) {
            Limit limit = Objects.requireNonNull(list.get(i), "limits[" + i + "]");
            plans[i] = limits.get(limit, l -> new LimitPlan(l, keys.counterBase(l.counterId()),
                    keys.tagOf(l.holder()), retentionMillis));
            for (int j = 0; j < i; j++) {
                if (plans[j].keyBase().equals(plans[i].keyBase())) {
                    throw new IllegalArgumentException("ops name the counter " + limit.counterId() + " twice");
                }
            }
        }
        if (n == 0) {
            return new RequestPlan(list, new SlotGroup[] {new SlotGroup(0, keys.tagKeys(0), new int[0],
                    new LimitPlan[0])}, placementVersion, plans);
        }
        TreeMap<Integer, List<Integer>> byTag = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            byTag.computeIfAbsent(plans[i].tag(), t -> new ArrayList<>()).add(i);
        }
        SlotGroup[] groups = new SlotGroup[byTag.size()];
        int g = 0;
        for (var entry : byTag.entrySet()) {
            // limits of one window layout side by side: a reservation then sends one expiry per run of them
            int[] index = entry.getValue().stream()
                    .sorted(Comparator.comparing((Integer i) -> plans[i].limit().window().id()))
                    .mapToInt(Integer::intValue).toArray();
            LimitPlan[] groupPlans = Arrays.stream(index).mapToObj(i -> plans[i]).toArray(LimitPlan[]::new);
            groups[g++] = new SlotGroup(entry.getKey(), keys.tagKeys(entry.getKey()), index, groupPlans);
        }
        return new RequestPlan(list, groups, placementVersion, plans);
    }
}
