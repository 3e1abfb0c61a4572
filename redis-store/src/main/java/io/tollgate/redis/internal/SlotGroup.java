package io.tollgate.redis.internal;

import io.tollgate.Window;

/**
 * The limits of one request that share a hash tag (all of them on standalone Redis), with their positions in the
 * request, and, for the windows that hold the store time the caller guessed, what every script call of the group
 * sends: the counter keys and the interval [lo, hi) of store times in which all those windows hold.
 *
 * <p>Thread-safe: the windows are one immutable value in a volatile field, replaced by whichever thread first sees
 * the guess leave them; the cached arguments likewise.
 */
public final class SlotGroup {

    private final int tag;
    private final KeySpace.TagKeys tagKeys;
    private final int[] index;
    private final LimitPlan[] plans;
    private volatile Windows windows;
    /** The last arguments built for a reservation, for the next one with the same windows and ops. */
    volatile ReserveCall.Prepared reserveArgs;
    /** The flush generation in which this group's windows were last marked as touched, and those windows. */
    volatile long touchedGeneration = -1;
    volatile Windows touchedWindows;

    SlotGroup(int tag, KeySpace.TagKeys tagKeys, int[] index, LimitPlan[] plans) {
        this.tag = tag;
        this.tagKeys = tagKeys;
        this.index = index;
        this.plans = plans;
    }

    public int tag() {
        return tag;
    }

    public KeySpace.TagKeys tagKeys() {
        return tagKeys;
    }

    /** How many limits the group has. */
    public int size() {
        return plans.length;
    }

    /** The position in the request of the group's {@code j}-th limit. */
    public int index(int j) {
        return index[j];
    }

    public LimitPlan plan(int j) {
        return plans[j];
    }

    /** The windows that hold {@code storeMillis}; cached while they all last. */
    public Windows windows(long storeMillis) {
        Windows current = windows;
        if (current == null || storeMillis < current.lo || storeMillis >= current.hi) {
            current = compute(storeMillis);
            windows = current;
        }
        return current;
    }

    private Windows compute(long storeMillis) {
        int n = plans.length;
        String[] keys = new String[n];
        String[] expiries = new String[n];
        Window[] windows = new Window[n];
        long lo = Long.MIN_VALUE;
        long hi = Long.MAX_VALUE;
        for (int j = 0; j < n; j++) {
            LimitPlan.Expected expected = plans[j].expected(storeMillis);
            keys[j] = expected.key();
            expiries[j] = expected.expiry();
            windows[j] = expected.window();
            lo = Math.max(lo, windows[j].startMillis());
            if (!windows[j].isUnbounded()) {
                hi = Math.min(hi, windows[j].endMillis());
            }
        }
        return new Windows(lo, hi, Long.toString(Math.max(lo, 0)), hi == Long.MAX_VALUE ? "" : Long.toString(hi),
                keys, Bulk.of(keys), expiries, windows);
    }

    /**
     * The windows of a group's limits at one store time: every one holds each store time in [lo, hi), which a script
     * checks against Redis time; the keys also as sent. Immutable in practice (the arrays are never written after
     * construction) and thread-safe.
     */
    public record Windows(long lo, long hi, String loArg, String hiArg, String[] keys, Bulk sentKeys,
                          String[] expiries, Window[] windows) {
    }
}
