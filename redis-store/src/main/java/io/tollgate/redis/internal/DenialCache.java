package io.tollgate.redis.internal;

import io.tollgate.Metric;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;

import java.util.concurrent.atomic.LongAdder;

/**
 * The denials this replica remembers: a counter that had no room for a request is known to be spent for the rest of
 * its window, so a client that keeps sending after its limit costs Redis one call per replica per counter and window
 * (or per re-check, below) instead of one per request.
 *
 * <p>A remembered denial is the counter's value as Redis reported it, kept on the limit's plan (the plans live in a
 * bounded cache, which bounds the denials too). A reservation whose need does not fit even at that value is denied
 * without a call. What it can get wrong: it may only deny, never admit, and only where the counter went down since:
 * <ul>
 *   <li>request counters on standalone Redis only grow within a window, so their denial stands until the window ends,
 *       less a margin for the guess of Redis time: never past the end;</li>
 *   <li>counters that can go down (tokens and cost, whose held estimates are given back; every counter on Redis
 *       Cluster, where a refused slot group gives back what the others took) are asked again after
 *       {@code denialRecheck}: a false denial lasts at most that long, and not at all after a give-back through this
 *       replica, which forgets the denials of the counters it gave back to;</li>
 *   <li>a data loss forgets every denial (the counters were restored from snapshots, perhaps lower).</li>
 * </ul>
 * A configuration that raises a maximum makes a new limit, with a plan of its own and no denial.
 *
 * <p>Thread-safe.
 */
public final class DenialCache {

    /** A denial never outlives its window by Redis time: the guess of Redis time may lag by this much. */
    private static final long WINDOW_MARGIN_MILLIS = 25;

    private final boolean enabled;
    private final boolean cluster;
    private final long recheckMillis;
    private final long marginMillis;
    private final LongAdder hits = new LongAdder();
    /** A data loss moves it on, which retires every denial remembered before. */
    private volatile long generation;

    public DenialCache(boolean enabled, boolean cluster, long recheckMillis, boolean testing) {
        this.enabled = enabled;
        this.cluster = cluster;
        this.recheckMillis = recheckMillis;
        // a test time source is the scripts' own clock: the guess is exact
        this.marginMillis = testing ? 0 : WINDOW_MARGIN_MILLIS;
    }

    /** Whether a reservation of {@code ops} in {@code group}'s {@code windows} is surely denied at {@code guess}. */
    public boolean denies(SlotGroup group, SlotGroup.Windows windows, CounterOps ops, long guess) {
        if (!enabled) {
            return false;
        }
        for (int j = 0; j < group.size(); j++) {
            LimitPlan.Denial denial = standing(group, windows, j, guess);
            if (denial != null) {
                int i = group.index(j);
                if (!CounterOp.fits(denial.used(), ops.amount(i) + ops.hold(i), group.plan(j).limit().max())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The remembered value of each counter of the group at {@code guess}, 0 where none is; counts a hit. */
    public long[] remembered(SlotGroup group, SlotGroup.Windows windows, long guess) {
        long[] used = new long[group.size()];
        for (int j = 0; j < used.length; j++) {
            LimitPlan.Denial denial = standing(group, windows, j, guess);
            used[j] = denial == null ? 0 : denial.used();
        }
        return used;
    }

    /** Counts a reservation answered from memory. */
    public void hit() {
        hits.increment();
    }

    private LimitPlan.Denial standing(SlotGroup group, SlotGroup.Windows windows, int j, long guess) {
        LimitPlan.Denial denial = group.plan(j).denial;
        if (denial == null || denial.generation() != generation || guess >= denial.until()
                || denial.windowStart() != windows.windows()[j].startMillis()) {
            return null;
        }
        return denial;
    }

    /** Remembers the counters that left no room for {@code ops} in a reply of store time {@code now}. */
    public void remember(SlotGroup group, SlotGroup.Windows windows, CounterOps ops, long[] used, long now) {
        if (!enabled) {
            return;
        }
        long current = generation;
        for (int j = 0; j < group.size(); j++) {
            int i = group.index(j);
            LimitPlan plan = group.plan(j);
            // a slot in flight frees when any replica's request ends: not worth a false denial
            if (plan.limit().metric() == Metric.IN_FLIGHT
                    || CounterOp.fits(used[j], ops.amount(i) + ops.hold(i), plan.limit().max())) {
                continue;
            }
            long end = windows.windows()[j].isUnbounded() ? Long.MAX_VALUE
                    : windows.windows()[j].endMillis() - marginMillis;
            boolean canGoDown = cluster || plan.limit().metric() != Metric.REQUESTS;
            long until = canGoDown ? Math.min(end, now + recheckMillis) : end;
            plan.denial = new LimitPlan.Denial(windows.windows()[j].startMillis(), used[j], until, current);
        }
    }

    /** Forgets the denials of a group's counters: this replica just gave back to them. */
    public void forget(SlotGroup group) {
        for (int j = 0; j < group.size(); j++) {
            group.plan(j).denial = null;
        }
    }

    /** Forgets every denial: the counters may hold less than they did. */
    public void forgetAll() {
        generation++;
    }

    /** Reservations denied from memory, without a call. */
    public long hits() {
        return hits.sum();
    }
}
