package io.tollgate.redis.internal;

import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.TollgateListener;
import io.tollgate.redis.LeasedAdmission;
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
import java.util.concurrent.ThreadLocalRandom;
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
 * <p>A slice's size (what this replica aims to hold of a counter) adapts to its use of it: when it ran out, doubled if
 * it lasted less than half the refill interval, halved if it lasted more than twice as long (down to none: a counter
 * used rarely costs one call per request, as without leases); and cut to what it holds when Redis gave less than
 * asked (its share of what is left), so a replica never holds more than about {@code maxShare} of a counter's room.
 * A call tops up every counter of its request that holds less than half its size. Redis caps each slice to a share of the room left, so near the maximum slices shrink to nothing;
 * a refill that finds no room for a slice gives back what this replica still holds of that counter.
 *
 * <p>Thread-safe: every slice is read and written under one lock, held for a few field updates.
 */
public final class SliceBook {

    private static final Logger LOG = LoggerFactory.getLogger(SliceBook.class);
    /** Leases issued for estimates admitted from slices start so; the store's id and a number follow. */
    private static final String LOCAL_LEASE = "slice:";
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
    private final long leaseMillis;
    private final String storeId;
    /** Estimates admitted here and not settled yet, by the lease {@link #admit} issued. */
    private final Map<String, LocalHold> localHolds = new HashMap<>();
    private long localLeases;
    private Holds holds;
    private boolean closed;

    public SliceBook(GroupCalls calls, StoreClock clock, LeasedAdmission options, long leaseMillis, String storeName,
                     TollgateListener listener) {
        this.calls = calls;
        this.leaseMillis = leaseMillis;
        this.storeId = Long.toHexString(ThreadLocalRandom.current().nextLong());
        this.listener = listener;
        this.clock = clock;
        this.everyLimit = options.allLimits();
        this.refillMillis = options.refillInterval().toMillis();
        this.refillNanos = TimeUnit.MILLISECONDS.toNanos(refillMillis);
        this.maxShare = options.maxShare();
        long idleReturnMillis = options.idleReturn().toMillis();
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

    /**
     * Whether a reservation may be admitted here: every limit of it is leased, and what it holds are estimates of
     * tokens or cost (an estimate comes from a slice held under a lease of its own in Redis, see {@link Holds}).
     */
    public boolean mayAdmit(RequestPlan plan, CounterOps ops) {
        if (ops.isEmpty()) {
            return false;
        }
        for (int i = 0; i < ops.size(); i++) {
            Limit limit = plan.plan(i).limit();
            if (!leased(limit) || ops.hold(i) > 0 && (ops.amount(i) != 0 || !estimated(limit))) {
                return false;
            }
        }
        return true;
    }

    private static boolean estimated(Limit limit) {
        return limit.metric() == Metric.TOKENS || limit.metric() == Metric.COST;
    }

    /** How slices of estimates are taken, given back and kept: by the store's own calls. */
    public void holdsBy(Holds holds) {
        this.holds = holds;
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
        String lease = null;
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
                long need = ops.amount(i) + ops.hold(i);
                // an estimate comes from a slice of estimates only, a taken amount never from one
                if (need > 0 ? slice.window != window.startMillis() || slice.remaining < need
                        || (ops.hold(i) > 0) != (slice.holdLease != null)
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
            LocalHold hold = ops.holdsAny() ? new LocalHold(guess + leaseMillis) : null;
            for (int i = 0; i < n; i++) {
                Slice slice = slice(plan.plan(i));
                long need = ops.amount(i) + ops.hold(i);
                used[i] = Math.max(0, slice.seenUsed - slice.remaining);
                slice.remaining -= need;
                slice.lastUse = nanos;
                if (ops.hold(i) > 0) {
                    hold.add(slice, slice.holdLease, ops.hold(i));
                    slice.outstanding.merge(slice.holdLease, ops.hold(i), Long::sum);
                }
            }
            if (hold != null) {
                lease = LOCAL_LEASE + storeId + "-" + (++localLeases);
                localHolds.put(lease, hold);
            }
        }
        local.increment();
        tell(() -> listener.leasedCheck(true));
        CounterState[] states = new CounterState[n];
        for (int i = 0; i < n; i++) {
            states[i] = new CounterState(plan.plan(i).limit(), used[i], windows[i]);
        }
        return new Attempt(ReserveResult.exact(true, List.of(states), guess, lease), null);
    }

    /**
     * Whether {@code lease} was issued by {@link #admit} of a store (this one or another replica's): estimates held from
     * slices, which Redis knows nothing of. Only the issuing store can settle it; elsewhere it expires there.
     */
    public boolean isLocal(String lease) {
        return lease.startsWith(LOCAL_LEASE);
    }

    /**
     * Settles a lease {@link #admit} issued: its estimates go back to the slices they came from (which Redis holds
     * under leases of their own). Once only; false when it was settled or had expired.
     */
    public boolean settle(String lease) {
        List<Supplier<CompletableFuture<Boolean>>> givingBack = null;
        synchronized (lock) {
            LocalHold hold = localHolds.remove(lease);
            if (hold == null) {
                return false;
            }
            for (int k = 0; k < hold.slices.size(); k++) {
                givingBack = add(givingBack, putBack(hold.slices.get(k), hold.leases.get(k), hold.amounts.get(k)));
            }
        }
        runAll(givingBack);
        return true;
    }

    /** Extends a lease {@link #admit} issued by a lease duration from now; false when it was settled or expired. */
    public boolean extend(String lease) {
        synchronized (lock) {
            LocalHold hold = localHolds.get(lease);
            if (hold != null) {
                hold.expiry = clock.guess() + leaseMillis;
            }
            return hold != null;
        }
    }

    /**
     * After a request with estimates was decided by Redis: takes, for each estimated counter short of room, a slice of
     * estimates under a lease of its own, sized like any slice (at least twice the estimate), for the next requests.
     */
    public void refillHolds(RequestPlan plan, CounterOps ops) {
        if (holds == null) {
            return;
        }
        long guess = clock.guess();
        long nanos = System.nanoTime();
        List<Runnable> taking = null;
        synchronized (lock) {
            if (closed) {
                return;
            }
            for (int i = 0; i < ops.size(); i++) {
                long estimate = ops.hold(i);
                LimitPlan limitPlan = plan.plan(i);
                if (estimate <= 0 || !leased(limitPlan.limit())) {
                    continue;
                }
                Slice slice = slice(limitPlan);
                Window window = limitPlan.expected(guess).window();
                boolean current = slice.window == window.startMillis() && slice.holdLease != null;
                boolean takenSlice = slice.holdLease == null && slice.remaining > 0;
                if (slice.refilling != null || takenSlice || current && slice.remaining >= estimate
                        || estimate > Long.MAX_VALUE / MAX_SIZE) {
                    continue;
                }
                long lasted = nanos - slice.lastRefill;
                long size = lasted < refillNanos / 2 ? 2 * slice.size
                        : lasted > 2 * refillNanos ? slice.size / 2 : slice.size;
                slice.size = Math.min(MAX_SIZE * estimate, Math.max(2 * estimate, size));
                slice.lastRefill = nanos;
                // Redis caps nothing here: the share of what is left is this replica's estimate of it
                long left = limitPlan.limit().max() - Math.max(0, slice.seenUsed);
                long want = Math.min(slice.size, (long) (left * maxShare));
                if (want < 2 * estimate) {
                    continue;
                }
                CompletableFuture<Void> done = new CompletableFuture<>();
                slice.refilling = done;
                Limit limit = limitPlan.limit();
                if (taking == null) {
                    taking = new ArrayList<>();
                }
                taking.add(() -> holds.take(limit, want).whenComplete((taken, failure) -> {
                    tookHold(slice, window, taken, want);
                    done.complete(null);
                }));
            }
        }
        if (taking != null) {
            taking.forEach(Runnable::run);
        }
    }

    /** A slice of estimates came back from Redis (or did not): it replaces the counter's last one. */
    private void tookHold(Slice slice, Window window, ReserveResult taken, long amount) {
        List<Supplier<CompletableFuture<Boolean>>> givingBack = null;
        synchronized (lock) {
            slice.refilling = null;
            if (taken == null || !taken.admitted() || taken.lease() == null) {
                return;
            }
            if (closed || slice.window > window.startMillis()) {
                givingBack = add(null, settleInRedis(taken.lease()));
            } else {
                givingBack = add(null, slice.holdLease != null ? retire(slice) : null);
                if (slice.window != window.startMillis()) {
                    slice.window = window.startMillis();
                    slice.windowEnd = window.endMillis();
                    slice.remaining = 0;
                    slice.returning = 0;
                }
                slice.holdLease = taken.lease();
                slice.holdExtended = clock.guess();
                slice.remaining += amount;
                refills.increment();
                tell(() -> listener.sliceTaken(slice.limit, amount));
            }
        }
        runAll(givingBack);
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
                if (slice.refilling != null || slice.holdLease != null || !slice.outstanding.isEmpty()) {
                    // one refill at a time per counter: the one on its way brings this request's slice too; and a
                    // counter with slices of estimates takes no other kind
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
                    givingBack = add(givingBack, slice.holdLease != null ? retire(slice) : null);
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
                    if (refill != null && granted < refill.wants[i]) {
                        // Redis capped it at its share of what is left: holding more is not this replica's to ask
                        slice.size = slice.remaining + granted;
                    }
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
        runAll(givingBack);
        return own;
    }

    /** A charge this replica applied: the remembered values of its leased counters grow by it. */
    public void charged(RequestPlan plan, CounterOps ops) {
        if (!concerns(plan)) {
            // a store without leased limits takes no lock on its charges
            return;
        }
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
        if (!leased(limitPlan.limit())) {
            return 0;
        }
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
                slice.holdLease = null;
                slice.outstanding.clear();
            }
            localHolds.clear();
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
                if (slice.holdLease != null) {
                    slice.outstanding.putIfAbsent(slice.holdLease, 0L);
                    slice.holdLease = null;
                    slice.remaining = 0;
                }
                // this replica's estimates end with it: every slice of them goes back
                for (String lease : slice.outstanding.keySet()) {
                    all.add(settleInRedis(lease).get());
                }
                slice.outstanding.clear();
                if (slice.remaining > 0) {
                    all.add(takeBack(slice).get());
                }
            }
            localHolds.clear();
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
            if (holds != null) {
                givingBack = keepHolds(guess, givingBack);
            }
            for (Iterator<Slice> it = slices.values().iterator(); it.hasNext(); ) {
                Slice slice = it.next();
                if (slice.remaining > 0 && guess >= slice.windowEnd) {
                    givingBack = add(givingBack, slice.holdLease != null ? retire(slice) : null);
                    slice.remaining = 0;
                } else if (slice.remaining > 0 && nanos - slice.lastUse >= idleReturnNanos) {
                    givingBack = add(givingBack, takeBack(slice));
                } else if (slice.remaining == 0 && slice.refilling == null && slice.outstanding.isEmpty()
                        && nanos - Math.max(slice.lastUse, slice.lastRefill) >= FORGET_NANOS) {
                    it.remove();
                }
            }
        }
        runAll(givingBack);
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
        if (slice.holdLease != null) {
            return retire(slice);
        }
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
        if (task == null) {
            return list;
        }
        List<Supplier<CompletableFuture<Boolean>>> tasks = list == null ? new ArrayList<>() : list;
        tasks.add(task);
        return tasks;
    }

    private static void runAll(List<Supplier<CompletableFuture<Boolean>>> tasks) {
        if (tasks != null) {
            tasks.forEach(Supplier::get);
        }
    }

    /**
     * Under the lock: ends a slice of estimates. Its unused part is no longer admitted from; its lease in Redis is
     * settled once no estimate admitted from it is outstanding (each settle or expiry of one brings that closer).
     */
    private Supplier<CompletableFuture<Boolean>> retire(Slice slice) {
        String lease = slice.holdLease;
        long unused = slice.remaining;
        slice.holdLease = null;
        slice.remaining = 0;
        if (unused > 0) {
            Limit limit = slice.limit;
            tell(() -> listener.sliceReturned(limit, unused));
        }
        if (slice.outstanding.getOrDefault(lease, 0L) > 0) {
            return null;
        }
        slice.outstanding.remove(lease);
        return settleInRedis(lease);
    }

    /** Under the lock: an estimate admitted from a slice of {@code lease} is settled or expired. */
    private Supplier<CompletableFuture<Boolean>> putBack(Slice slice, String lease, long amount) {
        long left = slice.outstanding.merge(lease, -amount, Long::sum);
        if (lease.equals(slice.holdLease)) {
            slice.remaining += amount;
            return null;
        }
        if (left > 0) {
            return null;
        }
        slice.outstanding.remove(lease);
        return settleInRedis(lease);
    }

    private Supplier<CompletableFuture<Boolean>> settleInRedis(String lease) {
        Holds by = holds;
        return () -> {
            returns.increment();
            return by.giveBack(lease).exceptionally(failure -> {
                // its lease gives it back when it expires
                LOG.debug("slice of estimates not given back: {}", failure.toString());
                return false;
            });
        };
    }

    /**
     * Under the lock: extends the Redis leases of the slices of estimates half a lease after the last extension, ends
     * local estimates whose lease expired.
     */
    private List<Supplier<CompletableFuture<Boolean>>> keepHolds(long guess,
                                                                 List<Supplier<CompletableFuture<Boolean>>> tasks) {
        List<Supplier<CompletableFuture<Boolean>>> out = tasks;
        for (Iterator<LocalHold> it = localHolds.values().iterator(); it.hasNext(); ) {
            LocalHold hold = it.next();
            if (guess >= hold.expiry) {
                it.remove();
                for (int k = 0; k < hold.slices.size(); k++) {
                    out = add(out, putBack(hold.slices.get(k), hold.leases.get(k), hold.amounts.get(k)));
                }
            }
        }
        for (Slice slice : slices.values()) {
            if ((slice.holdLease != null || !slice.outstanding.isEmpty())
                    && guess - slice.holdExtended >= leaseMillis / 2) {
                slice.holdExtended = guess;
                List<String> leases = new ArrayList<>(slice.outstanding.keySet());
                if (slice.holdLease != null && !leases.contains(slice.holdLease)) {
                    leases.add(slice.holdLease);
                }
                for (String lease : leases) {
                    out = add(out, () -> holds.extend(lease).handle((alive, failure) -> {
                        if (Boolean.FALSE.equals(alive)) {
                            synchronized (lock) {
                                // Redis gave it back: nothing more to admit from it
                                if (lease.equals(slice.holdLease)) {
                                    slice.holdLease = null;
                                    slice.remaining = 0;
                                }
                                slice.outstanding.remove(lease);
                            }
                        }
                        return Boolean.TRUE.equals(alive);
                    }));
                }
            }
        }
        return out;
    }

    /**
     * How slices of estimates are held in Redis: each is a reservation with a lease of its own, so that a replica that
     * dies holds them one lease duration at most. Implemented by the store over its own calls.
     */
    public interface Holds {

        /** Reserves {@code amount} of {@code limit}'s counter under a new lease, exactly as any reservation. */
        CompletableFuture<ReserveResult> take(Limit limit, long amount);

        /** Settles such a lease: what it holds goes back. */
        CompletableFuture<Boolean> giveBack(String lease);

        /** Extends such a lease; false when it expired. */
        CompletableFuture<Boolean> extend(String lease);
    }

    /** Estimates one request was admitted with from slices: where each came from. Guarded by the book's lock. */
    private static final class LocalHold {
        final List<Slice> slices = new ArrayList<>(2);
        final List<String> leases = new ArrayList<>(2);
        final List<Long> amounts = new ArrayList<>(2);
        long expiry;

        LocalHold(long expiry) {
            this.expiry = expiry;
        }

        void add(Slice slice, String lease, long amount) {
            slices.add(slice);
            leases.add(lease);
            amounts.add(amount);
        }
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
        /** For a slice of estimates: the Redis lease it is held under, and when leases of it were last extended. */
        String holdLease;
        long holdExtended;
        /** Estimates admitted from this counter's slices and not settled, by the lease of their slice. */
        final Map<String, Long> outstanding = new HashMap<>(2);

        Slice(Limit limit) {
            this.limit = limit;
        }
    }
}
