package io.tollgate.redis.internal;

import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.TollgateListener;
import io.tollgate.Window;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.ReserveResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * This replica's slices of leased admission (see {@code io.tollgate.redis.LeasedAdmission}): per request counter, the
 * part of its current window taken from Redis and not admitted yet; per token or cost counter, the value last read and
 * what this replica charged since. A request is admitted here only when every counter of its list has room, taken for
 * all of them under one lock, as the in-memory store does; else its call to Redis also refills the slices of its
 * counters.
 *
 * <p>A slice's size adapts to this replica's use of it: when it ran out, doubled if it lasted less than half the refill
 * interval, halved if it lasted more than twice as long (down to none: a counter used rarely costs one call per
 * request, as without leases). A call tops up every counter of its request that holds less than half its size. Redis caps each slice to a share of the room left, so near the maximum slices shrink to nothing;
 * a refill that finds no room for a slice gives back what this replica still holds of that counter.
 *
 * <p>Thread-safe: every slice is read and written under one lock, held for a few field updates.
 */
public final class SliceBook {

    private static final Logger LOG = LoggerFactory.getLogger(SliceBook.class);
    /** No local admission this close to a window's end: this replica's guess of Redis time may be that far off. */
    private static final long WINDOW_END_GUARD_MILLIS = 5;
    private static final long MAX_SIZE = 1L << 24;
    /** A counter unused this long is forgotten once it holds nothing. */
    private static final long FORGET_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final GroupCalls calls;
    private final TollgateListener listener;
    private final StoreClock clock;
    private final boolean everyLimit;
    private final long refillNanos;
    private final long refillMillis;
    private final double maxShare;
    private final long idleReturnNanos;
    private final String share;
    private final Object lock = new Object();
    private final Map<String, Slice> slices = new HashMap<>();
    private final ScheduledExecutorService sweeper;
    private final LongAdder local = new LongAdder();
    private final LongAdder shared = new LongAdder();
    private final LongAdder refills = new LongAdder();
    private final LongAdder returns = new LongAdder();
    private boolean closed;

    public SliceBook(GroupCalls calls, StoreClock clock, boolean everyLimit, long refillMillis, double maxShare,
                     long idleReturnMillis, String storeName, TollgateListener listener) {
        this.calls = calls;
        this.listener = listener;
        this.clock = clock;
        this.everyLimit = everyLimit;
        this.refillNanos = TimeUnit.MILLISECONDS.toNanos(refillMillis);
        this.refillMillis = refillMillis;
        this.maxShare = maxShare;
        this.idleReturnNanos = TimeUnit.MILLISECONDS.toNanos(idleReturnMillis);
        this.share = Double.toString(maxShare);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "tollgate-redis-slices-" + storeName);
            thread.setDaemon(true);
            return thread;
        });
        long period = Math.max(10, idleReturnMillis / 4);
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    /** Whether a limit is admitted from slices: every limit or the marked ones, never an in-flight limit. */
    public boolean leased(Limit limit) {
        return limit.metric() != Metric.IN_FLIGHT && (everyLimit || limit.leased());
    }

    /** Whether a reservation may be admitted here: it holds nothing and every limit of it is leased. */
    public boolean mayAdmit(RequestPlan plan, CounterOps ops) {
        if (ops.holdsAny() || ops.isEmpty()) {
            return false;
        }
        for (int i = 0; i < ops.size(); i++) {
            if (!leased(plan.plan(i).limit())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Admits the request from this replica's slices if every counter has room; else says whether a refill of a
     * counter short of room is on its way (to wait for it), or that the request goes to Redis.
     */
    public Attempt admit(RequestPlan plan, CounterOps ops, boolean mayWait) {
        long guess = clock.guess();
        long nanos = System.nanoTime();
        int n = ops.size();
        Window[] windows = new Window[n];
        long[] used = new long[n];
        synchronized (lock) {
            CompletableFuture<Void> inFlight = null;
            boolean room = true;
            for (int i = 0; i < n; i++) {
                LimitPlan limitPlan = plan.plan(i);
                Window window = limitPlan.expected(guess).window();
                if (!window.isUnbounded() && guess >= window.endMillis() - WINDOW_END_GUARD_MILLIS) {
                    return Attempt.SHARED;
                }
                windows[i] = window;
                Slice slice = slice(limitPlan);
                long need = ops.amount(i);
                if (need > 0 ? slice.window != window.startMillis() || slice.remaining < need
                        : slice.seenWindow != window.startMillis() || guess - slice.seenAt > refillMillis
                                || slice.seenUsed >= limitPlan.limit().max()) {
                    room = false;
                    if (slice.refilling != null && inFlight == null) {
                        inFlight = slice.refilling;
                    }
                }
            }
            if (!room) {
                return mayWait && inFlight != null ? new Attempt(null, inFlight) : Attempt.SHARED;
            }
            for (int i = 0; i < n; i++) {
                Slice slice = slice(plan.plan(i));
                long need = ops.amount(i);
                used[i] = Math.max(0, slice.seenUsed - slice.remaining);
                slice.remaining -= need;
                slice.lastUse = nanos;
            }
        }
        local.increment();
        tell(() -> listener.leasedCheck(true));
        CounterState[] states = new CounterState[n];
        for (int i = 0; i < n; i++) {
            states[i] = new CounterState(plan.plan(i).limit(), used[i], windows[i]);
        }
        return new Attempt(ReserveResult.exact(true, List.of(states), guess, null), null);
    }

    /**
     * The refill a call to Redis for this request should carry: the slice wanted of each counter by position in the
     * request, with the sizes adapted to how long the last slices lasted, registered as the refill on its way of each
     * counter it refills (see {@link #ended}). Null when the request refills nothing.
     */
    public Refill refill(RequestPlan plan, CounterOps ops) {
        shared.increment();
        tell(() -> listener.leasedCheck(false));
        long guess = clock.guess();
        long nanos = System.nanoTime();
        synchronized (lock) {
            if (closed) {
                return null;
            }
            Refill refill = null;
            for (int i = 0; i < ops.size(); i++) {
                LimitPlan limitPlan = plan.plan(i);
                if (ops.amount(i) <= 0 || ops.hold(i) != 0 || !leased(limitPlan.limit())) {
                    continue;
                }
                Slice slice = slice(limitPlan);
                if (slice.refilling != null) {
                    // one refill at a time per counter: the one on its way brings this request's slice too
                    continue;
                }
                long start = limitPlan.expected(guess).window().startMillis();
                long held = slice.window == start ? slice.remaining : 0;
                boolean shortOfRoom = held < ops.amount(i);
                if (shortOfRoom) {
                    // only a slice that ran out says how long one lasts: the others were spent by fewer requests
                    long lasted = nanos - slice.lastRefill;
                    if (lasted < refillNanos / 2) {
                        slice.size = Math.min(MAX_SIZE, Math.max(1, 2 * slice.size));
                    } else if (lasted > 2 * refillNanos) {
                        slice.size /= 2;
                    }
                    slice.lastRefill = nanos;
                }
                // a counter still holding half its slice waits for a call of its own
                long want = shortOfRoom || 2 * held < slice.size ? slice.size - held : 0;
                if (want > 0) {
                    if (refill == null) {
                        refill = new Refill(new long[ops.size()]);
                    }
                    refill.wants[i] = want;
                    slice.refilling = refill.done;
                    refill.registered.add(slice);
                }
            }
            return refill;
        }
    }

    /** Whether a counter at {@code used} has so little left that Redis gives it no slice (see {@code reserve.lua}). */
    private boolean nearMaximum(long used, long max) {
        return (max - used) * maxShare < 1;
    }

        /** Ends a refill, whatever its call did: requests waiting for it try their slices again. */
    public void ended(Refill refill) {
        synchronized (lock) {
            for (Slice slice : refill.registered) {
                if (slice.refilling == refill.done) {
                    slice.refilling = null;
                }
            }
        }
        refill.done.complete(null);
    }

    /** Whether any limit of the list is leased, so that its replies concern this book. */
    public boolean concerns(RequestPlan plan) {
        for (int i = 0; i < plan.limits().size(); i++) {
            if (leased(plan.plan(i).limit())) {
                return true;
            }
        }
        return false;
    }

    /** The largest share of a counter's room one slice may take, as the script reads it. */
    public String share() {
        return share;
    }

    /**
     * Learns from one group's reply: credits the slices it took, gives back those of counters it found near their
     * maximum and remembers every leased counter's value. Returns the reply's values as this replica sees them: without
     * what it holds unused (or is giving back), which no request of its own is refused for. {@code refill} is what
     * the call carried, or null.
     */
    public long[] credit(CounterOps ops, GroupCalls.Taken taken, Refill refill) {
        SlotGroup group = taken.group();
        long[] own = taken.used().clone();
        List<Supplier<CompletableFuture<Boolean>>> givingBack = null;
        synchronized (lock) {
            for (int j = 0; j < group.size(); j++) {
                int i = group.index(j);
                LimitPlan limitPlan = group.plan(j);
                if (!leased(limitPlan.limit())) {
                    continue;
                }
                Slice slice = slice(limitPlan);
                Window window = taken.windows().windows()[j];
                long start = window.startMillis();
                if (start < slice.window) {
                    // a late reply of an earlier window: what it took stays counted there
                    continue;
                }
                if (slice.window != start) {
                    // what was left of an earlier window stays counted there: that window is over
                    slice.window = start;
                    slice.windowEnd = window.endMillis();
                    slice.remaining = 0;
                    slice.returning = 0;
                }
                long held = slice.remaining + slice.returning;
                long took = 0;
                if (taken.admitted()) {
                    took = ops.amount(i) + ops.hold(i);
                    long granted = taken.slices() == null ? 0 : taken.slices()[j];
                    if (granted > 0) {
                        slice.remaining += granted;
                        slice.key = taken.windows().keys()[j];
                        slice.tagKeys = group.tagKeys();
                        slice.epoch = taken.epoch();
                        took += granted;
                        refills.increment();
                        tell(() -> listener.sliceTaken(limitPlan.limit(), granted));
                    }
                }
                slice.seenWindow = start;
                slice.seenUsed = taken.used()[j] + took;
                slice.seenAt = taken.now();
                if (slice.remaining > 0 && nearMaximum(slice.seenUsed, limitPlan.limit().max())) {
                    // Redis would give no slice of what is left: this replica's part goes back, so that every
                    // replica's requests are decided exactly on what remains
                    givingBack = add(givingBack, takeBack(slice));
                }
                own[j] = Math.max(0, own[j] - held);
            }
        }
        if (givingBack != null) {
            givingBack.forEach(Supplier::get);
        }
        return own;
    }

    /** A charge this replica applied: the remembered values of its leased counters grow by it. */
    public void charged(RequestPlan plan, CounterOps ops) {
        long guess = clock.guess();
        synchronized (lock) {
            for (int i = 0; i < ops.size(); i++) {
                LimitPlan limitPlan = plan.plan(i);
                if (ops.amount(i) > 0 && leased(limitPlan.limit())) {
                    Slice slice = slices.get(limitPlan.keyBase());
                    if (slice != null && slice.seenWindow == limitPlan.expected(guess).window().startMillis()) {
                        slice.seenUsed += ops.amount(i);
                    }
                }
            }
        }
    }

    /** What this replica holds unused of the counter of {@code limitPlan} in the window starting at {@code start}. */
    public long held(LimitPlan limitPlan, long start) {
        synchronized (lock) {
            Slice slice = slices.get(limitPlan.keyBase());
            return slice != null && slice.window == start ? slice.remaining + slice.returning : 0;
        }
    }

    /** Forgets every slice: Redis lost the data they were counted in. */
    public void dropAll() {
        synchronized (lock) {
            for (Slice slice : slices.values()) {
                slice.remaining = 0;
                slice.seenWindow = Long.MIN_VALUE;
            }
        }
    }

    /** Reservations admitted here without a call. */
    public long localAdmissions() {
        return local.sum();
    }

    /** Reservations decided by a call to Redis. */
    public long sharedDecisions() {
        return shared.sum();
    }

    /** Slices taken. */
    public long refills() {
        return refills.sum();
    }

    /** Unused slices given back. */
    public long returns() {
        return returns.sum();
    }

    /** What this replica holds unused now, over every counter. */
    public long heldNow() {
        long sum = 0;
        synchronized (lock) {
            for (Slice slice : slices.values()) {
                sum += slice.remaining;
            }
        }
        return sum;
    }

    /** Gives back every unused slice, waiting for Redis up to {@code timeoutMillis}; no slice is taken after. */
    public void close(long timeoutMillis) {
        sweeper.shutdownNow();
        List<CompletableFuture<Boolean>> all = new ArrayList<>();
        synchronized (lock) {
            closed = true;
            for (Slice slice : slices.values()) {
                if (slice.remaining > 0) {
                    all.add(takeBack(slice).get());
                }
            }
        }
        try {
            CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
                    .get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.debug("slices not all given back at close: {}", e.toString());
        }
    }

    /** Gives back idle slices, drops those of windows that ended, and forgets counters long unused. */
    private void sweep() {
        long guess = clock.guess();
        long nanos = System.nanoTime();
        List<Supplier<CompletableFuture<Boolean>>> givingBack = null;
        synchronized (lock) {
            for (Iterator<Slice> it = slices.values().iterator(); it.hasNext(); ) {
                Slice slice = it.next();
                if (slice.remaining > 0 && guess >= slice.windowEnd) {
                    slice.remaining = 0;
                } else if (slice.remaining > 0 && nanos - slice.lastUse >= idleReturnNanos) {
                    givingBack = add(givingBack, takeBack(slice));
                } else if (slice.remaining == 0 && slice.refilling == null
                        && nanos - Math.max(slice.lastUse, slice.lastRefill) >= FORGET_NANOS) {
                    it.remove();
                }
            }
        }
        if (givingBack != null) {
            givingBack.forEach(Supplier::get);
        }
        long held = heldNow();
        tell(() -> listener.slicesHeld(held));
    }

    /** Tells the listener, which must not break a decision. */
    private static void tell(Runnable event) {
        try {
            event.run();
        } catch (RuntimeException e) {
            LOG.warn("listener failed: {}", e.toString());
        }
    }

    /**
     * Takes a slice's remainder off it (under the lock), counted as on its way back until Redis answered, and returns
     * the give-back, to run outside the lock.
     */
    private Supplier<CompletableFuture<Boolean>> takeBack(Slice slice) {
        long amount = slice.remaining;
        long window = slice.window;
        KeySpace.TagKeys tagKeys = slice.tagKeys;
        String epoch = slice.epoch;
        String key = slice.key;
        slice.remaining = 0;
        slice.returning += amount;
        slice.seenUsed -= amount;
        Limit limit = slice.limit;
        return () -> {
            returns.increment();
            tell(() -> listener.sliceReturned(limit, amount));
            return calls.giveBack(tagKeys, epoch, key, amount).handle((done, failure) -> {
                if (failure != null) {
                    // a lost give-back only leaves the slice counted until its window ends
                    LOG.debug("slice of {} not given back: {}", key, failure.toString());
                }
                synchronized (lock) {
                    if (slice.window == window) {
                        slice.returning -= amount;
                    }
                }
                return failure == null && done;
            });
        };
    }

    private static List<Supplier<CompletableFuture<Boolean>>> add(List<Supplier<CompletableFuture<Boolean>>> list,
                                                                 Supplier<CompletableFuture<Boolean>> task) {
        List<Supplier<CompletableFuture<Boolean>>> tasks = list == null ? new ArrayList<>() : list;
        tasks.add(task);
        return tasks;
    }

    /** Under the lock: the slice of a counter, created empty. */
    private Slice slice(LimitPlan limitPlan) {
        return slices.computeIfAbsent(limitPlan.keyBase(), key -> new Slice(limitPlan.limit()));
    }

    /**
     * The slices one call to Redis wants, by position in the request, the counters whose refill on its way it is,
     * and its end. Guarded by the book's lock but for {@link #wants}, written once before the call.
     */
    public static final class Refill {
        private final long[] wants;
        private final List<Slice> registered = new ArrayList<>(2);
        private final CompletableFuture<Void> done = new CompletableFuture<>();

        private Refill(long[] wants) {
            this.wants = wants;
        }

        public long[] wants() {
            return wants;
        }
    }

    /**
     * What a local try found: the reservation admitted, or a refill on its way to wait for, or neither (go to
     * Redis). Immutable.
     */
    public record Attempt(ReserveResult admitted, CompletableFuture<Void> inFlight) {
        static final Attempt SHARED = new Attempt(null, null);
    }

    /** One counter's slice and remembered value. Guarded by the book's lock. */
    private static final class Slice {
        final Limit limit;
        long window = Long.MIN_VALUE;
        long windowEnd = Long.MAX_VALUE;
        String key;
        KeySpace.TagKeys tagKeys;
        String epoch;
        long remaining;
        /** Given back, and not yet taken off in Redis. */
        long returning;
        long size;
        long lastRefill = Long.MIN_VALUE / 2;
        long lastUse;
        long seenWindow = Long.MIN_VALUE;
        long seenUsed;
        /** When the value was read, in store time. */
        long seenAt;
        CompletableFuture<Void> refilling;

        Slice(Limit limit) {
            this.limit = limit;
        }
    }
}
