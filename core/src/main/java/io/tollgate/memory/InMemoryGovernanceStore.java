package io.tollgate.memory;

import io.tollgate.CounterId;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.Window;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.ReserveResult;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.StampedLock;

/**
 * The embedded store: counters in this JVM, for a single gateway process or for tests. Exact and atomic within the
 * process; nothing is shared with other replicas and nothing survives a restart.
 *
 * <p>Thread-safe without a global lock: the counters of one holder share a lock, and a call that touches several
 * holders takes their locks in one global order, so calls on disjoint holders never wait for each other and no two
 * calls deadlock.
 * Time comes from the injected {@link Clock}. A window's value is kept until {@code expiredWindowRetention} after the
 * window ends, so that a snapshot flusher still sees its final value; then it is dropped on the next access.
 */
public final class InMemoryGovernanceStore implements GovernanceStore {

    private final Clock clock;
    private final long retentionMillis;
    private final long idempotencyMillis;
    private final Map<Holder, HolderCounters> holders = new ConcurrentHashMap<>();
    /** Keys of the current and the previous generation; both are consulted, the older one dropped whole. */
    private volatile KeyGeneration currentKeys;
    private volatile KeyGeneration previousKeys;
    private final StampedLock keyRotation = new StampedLock();
    /**
     * Change marks. A write stamps its cells with the current epoch under their holder's lock, reading it only, so
     * that writers on different cores do not contend for it; {@link #changesSince} advances it.
     */
    private final AtomicLong changeEpoch = new AtomicLong(1);
    private final AtomicLong holderOrdinals = new AtomicLong();

    private InMemoryGovernanceStore(Builder builder) {
        this.clock = builder.clock;
        this.retentionMillis = builder.expiredWindowRetention.toMillis();
        this.idempotencyMillis = builder.idempotencyKeyLifetime.toMillis();
        long now = clock.millis();
        this.currentKeys = new KeyGeneration(now);
        this.previousKeys = new KeyGeneration(now);
    }

    /** A store on the system clock with the default retention (1 minute) and idempotency key lifetime (at least 24 hours). */
    public static InMemoryGovernanceStore create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
        return CompletableFuture.completedFuture(reserveNow(ops));
    }

    /** {@link #reserve} without the future. */
    public ReserveResult reserveNow(List<CounterOp> ops) {
        HolderCounters[] owners = owners(ops);
        long now = clock.millis();
        int size = ops.size();
        Window[] windows = new Window[size];
        for (int i = 0; i < size; i++) {
            windows[i] = ops.get(i).limit().window().windowAt(now);
        }
        long[] used = new long[size];
        boolean admitted = true;
        // Only reading and adding happen under the locks; everything else is done before or after.
        HolderCounters[] locked = lockAll(owners);
        try {
            Cell[] cells = new Cell[size];
            Object call = new Object();
            for (int i = 0; i < size; i++) {
                CounterOp op = ops.get(i);
                cells[i] = claim(owners[i].series(op.limit()), call).cell(windows[i], now, retentionMillis);
                used[i] = cells[i].value;
                admitted &= CounterOp.fits(used[i], op.amount(), op.limit().max());
            }
            if (admitted) {
                long epoch = changeEpoch.get();
                for (int i = 0; i < size; i++) {
                    long amount = ops.get(i).amount();
                    if (amount > 0) {
                        cells[i].value += amount;
                        cells[i].changedAt = epoch;
                    }
                }
            }
        } finally {
            unlockAll(locked);
        }
        CounterState[] states = new CounterState[size];
        for (int i = 0; i < size; i++) {
            states[i] = new CounterState(ops.get(i).limit(), used[i], windows[i]);
        }
        return new ReserveResult(admitted, List.of(states), now);
    }

    @Override
    public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
        return CompletableFuture.completedFuture(chargeNow(idempotencyKey, ops));
    }

    /** {@link #charge} without the future. */
    public ChargeResult chargeNow(String idempotencyKey, List<CounterOp> ops) {
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        HolderCounters[] owners = owners(ops);
        long now = clock.millis();
        Map<String, Boolean> claimedIn = claimKey(idempotencyKey, now);
        if (claimedIn == null) {
            return ChargeResult.DUPLICATE;
        }
        try {
            applyCharge(ops, owners, now);
            return ChargeResult.APPLIED;
        } catch (RuntimeException e) {
            // Nothing was applied, so the same update must be able to try again.
            claimedIn.remove(idempotencyKey);
            throw e;
        }
    }

    /**
     * Records {@code key} unless either generation holds it; returns the map it went into, or {@code null} for a
     * duplicate. A generation lives one lifetime as the current one and one more as the previous one, so a key is
     * remembered for at least the lifetime and at most twice it, and forgetting costs no scan.
     */
    private Map<String, Boolean> claimKey(String key, long now) {
        if (now - currentKeys.startedAt >= idempotencyMillis) {
            rotateKeys(now);
        }
        long stamp = keyRotation.readLock();
        try {
            Map<String, Boolean> current = currentKeys.keys;
            if (previousKeys.keys.containsKey(key) || current.putIfAbsent(key, Boolean.TRUE) != null) {
                return null;
            }
            return current;
        } finally {
            keyRotation.unlockRead(stamp);
        }
    }

    private void rotateKeys(long now) {
        long stamp = keyRotation.writeLock();
        try {
            if (now - currentKeys.startedAt >= idempotencyMillis) {
                // A clock that jumped past two lifetimes forgets both generations.
                previousKeys = now - currentKeys.startedAt >= 2 * idempotencyMillis ? new KeyGeneration(now) : currentKeys;
                currentKeys = new KeyGeneration(now);
            }
        } finally {
            keyRotation.unlockWrite(stamp);
        }
    }

    private void applyCharge(List<CounterOp> ops, HolderCounters[] owners, long now) {
        HolderCounters[] locked = lockAll(owners);
        try {
            int size = ops.size();
            Cell[] cells = new Cell[size];
            Cell[] released = new Cell[size];
            Object call = new Object();
            for (int i = 0; i < size; i++) {
                CounterOp op = ops.get(i);
                Series series = claim(owners[i].series(op.limit()), call);
                cells[i] = series.cell(op.limit().window().windowAt(now), now, retentionMillis);
                if (op.release() > 0) {
                    released[i] = series.existing(op.releaseWindowStart());
                }
                if (cells[i].value > Long.MAX_VALUE - op.amount()) {
                    throw new ArithmeticException("charge of " + op.amount() + " overflows the counter of "
                            + op.limit() + " at " + cells[i].value);
                }
            }
            long epoch = changeEpoch.get();
            for (int i = 0; i < size; i++) {
                CounterOp op = ops.get(i);
                if (released[i] != null) {
                    released[i].value = Math.max(0, released[i].value - op.release());
                    released[i].changedAt = epoch;
                }
                if (op.amount() > 0) {
                    cells[i].value += op.amount();
                    cells[i].changedAt = epoch;
                }
            }
        } finally {
            unlockAll(locked);
        }
    }

    @Override
    public CompletionStage<List<CounterState>> read(List<Limit> limits) {
        long now = clock.millis();
        List<CounterState> states = new ArrayList<>(limits.size());
        for (Limit limit : limits) {
            HolderCounters owner = holder(limit.holder());
            Window window = limit.window().windowAt(now);
            owner.lock.lock();
            try {
                Cell cell = owner.series(limit).existing(window.startMillis());
                states.add(new CounterState(limit, cell == null ? 0 : cell.value, window));
            } finally {
                owner.lock.unlock();
            }
        }
        return CompletableFuture.completedFuture(states);
    }

    /**
     * Scans every counter held: in-memory counts are few enough that a scan costs less than keeping a change log on
     * the hot path. The epoch moves on first; a write still stamped with the old epoch held its holder's lock, which
     * the scan takes, so it is either seen now or stamped with the new epoch and seen next time.
     */
    @Override
    public ChangeBatch changesSince(long mark) {
        long epoch = changeEpoch.getAndIncrement();
        List<CounterSnapshot> changed = new ArrayList<>();
        for (HolderCounters owner : holders.values()) {
            owner.lock.lock();
            try {
                for (Series series : owner.series) {
                    for (Cell cell : series.cells) {
                        if (cell.changedAt > mark) {
                            changed.add(new CounterSnapshot(series.id, cell.window, cell.value));
                        }
                    }
                }
            } finally {
                owner.lock.unlock();
            }
        }
        return new ChangeBatch(changed, epoch);
    }

    @Override
    public void restore(Collection<CounterSnapshot> snapshots) {
        long now = clock.millis();
        for (CounterSnapshot snapshot : snapshots) {
            if (snapshot.window().endMillis() <= now) {
                continue;
            }
            CounterId id = snapshot.counter();
            HolderCounters owner = holder(id.holder());
            owner.lock.lock();
            try {
                Cell cell = owner.series(id.metric(), id.windowId()).cell(snapshot.window(), now, retentionMillis);
                if (cell.value < snapshot.value()) {
                    cell.value = snapshot.value();
                    cell.changedAt = changeEpoch.get();
                }
            } finally {
                owner.lock.unlock();
            }
        }
    }

    @Override
    public void close() {
        // Nothing to release: the store holds no thread or connection.
    }

    private HolderCounters holder(Holder holder) {
        HolderCounters counters = holders.get(holder);
        return counters != null ? counters
                : holders.computeIfAbsent(holder, key -> new HolderCounters(key, holderOrdinals.incrementAndGet()));
    }

    /** Each op's holder; a request lists a holder's limits together, so a repeated holder is looked up once. */
    private HolderCounters[] owners(List<CounterOp> ops) {
        int size = ops.size();
        HolderCounters[] owners = new HolderCounters[size];
        Holder previous = null;
        for (int i = 0; i < size; i++) {
            Holder holder = ops.get(i).limit().holder();
            owners[i] = holder.equals(previous) ? owners[i - 1] : holder(holder);
            previous = holder;
        }
        return owners;
    }

    /** Marks {@code series} as taken by the call {@code call}; a second mark in one call is the same counter twice. */
    private static Series claim(Series series, Object call) {
        if (series.claimedBy == call) {
            throw new IllegalArgumentException("ops name the counter " + series.id + " twice");
        }
        series.claimedBy = call;
        return series;
    }

    /** Locks each distinct holder once, in ordinal order; returns what to unlock. */
    private static HolderCounters[] lockAll(HolderCounters[] owners) {
        HolderCounters[] order = new HolderCounters[owners.length];
        int distinct = 0;
        for (HolderCounters owner : owners) {
            int at = distinct;
            boolean seen = false;
            // Insertion into a short sorted array: a request has a handful of holders.
            while (at > 0 && order[at - 1].ordinal >= owner.ordinal) {
                if (order[at - 1] == owner) {
                    seen = true;
                    break;
                }
                at--;
            }
            if (seen) {
                continue;
            }
            System.arraycopy(order, at, order, at + 1, distinct - at);
            order[at] = owner;
            distinct++;
        }
        int taken = 0;
        try {
            for (; taken < distinct; taken++) {
                order[taken].lock.lock();
            }
        } catch (RuntimeException | Error e) {
            unlockAll(Arrays.copyOf(order, taken));
            throw e;
        }
        return distinct == order.length ? order : Arrays.copyOf(order, distinct);
    }

    private static void unlockAll(HolderCounters[] locked) {
        for (int i = locked.length - 1; i >= 0; i--) {
            locked[i].lock.unlock();
        }
    }

    /** Idempotency keys first seen in one lifetime-long period. */
    private static final class KeyGeneration {
        final long startedAt;
        final Map<String, Boolean> keys = new ConcurrentHashMap<>();

        KeyGeneration(long startedAt) {
            this.startedAt = startedAt;
        }
    }

    /** The counters of one holder; everything but the identity is guarded by its lock. */
    private static final class HolderCounters {
        final Holder holder;
        final long ordinal;
        final ReentrantLock lock = new ReentrantLock();
        Series[] series = new Series[0];

        HolderCounters(Holder holder, long ordinal) {
            this.holder = holder;
            this.ordinal = ordinal;
        }

        Series series(Limit limit) {
            return series(limit.metric(), limit.window().id());
        }

        Series series(Metric metric, String windowId) {
            for (Series candidate : series) {
                if (candidate.metric == metric && candidate.windowId.equals(windowId)) {
                    return candidate;
                }
            }
            Series created = new Series(new CounterId(holder, metric, windowId));
            series = Arrays.copyOf(series, series.length + 1);
            series[series.length - 1] = created;
            return created;
        }
    }

    /** The windows of one counter; guarded by its holder's lock. */
    private static final class Series {
        final CounterId id;
        final Metric metric;
        final String windowId;
        final List<Cell> cells = new ArrayList<>(2);
        /** The call that last took this counter, to refuse a list that names it twice. */
        Object claimedBy;

        Series(CounterId id) {
            this.id = id;
            this.metric = id.metric();
            this.windowId = id.windowId();
        }

        Cell cell(Window window, long now, long retentionMillis) {
            Cell found = null;
            for (int i = cells.size() - 1; i >= 0; i--) {
                Cell cell = cells.get(i);
                if (cell.window.startMillis() == window.startMillis()) {
                    found = cell;
                } else if (!cell.window.isUnbounded() && cell.window.endMillis() + retentionMillis <= now) {
                    cells.remove(i);
                }
            }
            if (found == null) {
                found = new Cell(window);
                cells.add(found);
            }
            return found;
        }

        Cell existing(long windowStart) {
            for (Cell cell : cells) {
                if (cell.window.startMillis() == windowStart) {
                    return cell;
                }
            }
            return null;
        }
    }

    /** One window's value; guarded by its holder's lock. */
    private static final class Cell {
        final Window window;
        long value;
        long changedAt;

        Cell(Window window) {
            this.window = window;
        }
    }

    /** Options of an {@link InMemoryGovernanceStore}; not thread-safe. */
    public static final class Builder {
        private Clock clock = Clock.systemUTC();
        private Duration expiredWindowRetention = Duration.ofMinutes(1);
        private Duration idempotencyKeyLifetime = Duration.ofHours(24);

        private Builder() {
        }

        /** The clock that lays out windows; the system UTC clock by default. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How long a window's value is kept after it ends, for a flusher to see it; 1 minute by default. */
        public Builder expiredWindowRetention(Duration retention) {
            if (retention == null || retention.isNegative()) {
                throw new IllegalArgumentException("expiredWindowRetention: " + retention + " must be zero or positive");
            }
            this.expiredWindowRetention = retention;
            return this;
        }

        /**
         * How long a charge's idempotency key is remembered at least (at most twice that); 24 hours by default. Each
         * key costs memory until it is forgotten: size it for the charges per second a process takes.
         */
        public Builder idempotencyKeyLifetime(Duration lifetime) {
            if (lifetime == null || lifetime.isNegative() || lifetime.isZero()) {
                throw new IllegalArgumentException("idempotencyKeyLifetime: " + lifetime + " must be positive");
            }
            this.idempotencyKeyLifetime = lifetime;
            return this;
        }

        public InMemoryGovernanceStore build() {
            return new InMemoryGovernanceStore(this);
        }
    }
}
