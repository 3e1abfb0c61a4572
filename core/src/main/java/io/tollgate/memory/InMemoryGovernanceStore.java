package io.tollgate.memory;

import io.tollgate.CounterId;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.Window;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
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
import java.util.concurrent.ConcurrentSkipListSet;
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
     * that writers on different cores do not contend for it; {@link #changes} advances it.
     */
    private final AtomicLong changeEpoch = new AtomicLong(1);
    private final AtomicLong holderOrdinals = new AtomicLong();
    private final Object changesLock = new Object();
    /** Guarded by changesLock: the epoch the previous {@link #changes} scan moved on from, and versions. */
    private long scannedEpoch;
    private long batches;
    private long lastVersion;
    private final long leaseMillis;
    private final Map<String, Lease> leases = new ConcurrentHashMap<>();
    private final AtomicLong leaseIds = new AtomicLong();
    /** Every lease held, by expiry: a check looks at the earliest only, and gives back only what expired. */
    private final ConcurrentSkipListSet<Due> dues = new ConcurrentSkipListSet<>();

    private InMemoryGovernanceStore(Builder builder) {
        this.clock = builder.clock;
        this.retentionMillis = builder.expiredWindowRetention.toMillis();
        this.idempotencyMillis = builder.idempotencyKeyLifetime.toMillis();
        this.leaseMillis = builder.leaseDuration.toMillis();
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
    public ReserveResult reserveNow(List<CounterOp> list) {
        CounterOps ops = CounterOps.from(list);
        HolderCounters[] owners = owners(ops);
        long now = clock.millis();
        expireLeases(now);
        int size = ops.size();
        Window[] windows = new Window[size];
        for (int i = 0; i < size; i++) {
            windows[i] = ops.limits().get(i).window().windowAt(now);
        }
        long[] used = new long[size];
        boolean admitted = true;
        Cell[] cells = new Cell[size];
        // Only reading and adding happen under the locks; everything else is done before or after.
        HolderCounters[] locked = lockAll(owners);
        try {
            Object call = new Object();
            for (int i = 0; i < size; i++) {
                Limit limit = ops.limits().get(i);
                cells[i] = claim(owners[i].series(limit), call).cell(windows[i], now, retentionMillis);
                used[i] = cells[i].value;
                admitted &= CounterOp.fits(used[i], ops.amount(i) + ops.hold(i), limit.max());
            }
            if (admitted) {
                long epoch = changeEpoch.get();
                for (int i = 0; i < size; i++) {
                    long total = ops.amount(i) + ops.hold(i);
                    if (total > 0) {
                        cells[i].value += total;
                        cells[i].changedAt = epoch;
                    }
                }
            }
        } finally {
            unlockAll(locked);
        }
        String lease = admitted && ops.holdsAny() ? lease(ops, owners, cells, now) : null;
        CounterState[] states = new CounterState[size];
        for (int i = 0; i < size; i++) {
            states[i] = new CounterState(ops.limits().get(i), used[i], windows[i]);
        }
        return ReserveResult.exact(admitted, List.of(states), now, lease);
    }

    @Override
    public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
        return CompletableFuture.completedFuture(chargeNow(idempotencyKey, ops));
    }

    /** {@link #charge} without the future. */
    public ChargeResult chargeNow(String idempotencyKey, List<CounterOp> list) {
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        CounterOps ops = CounterOps.from(list);
        if (ops.holdsAny()) {
            throw new IllegalArgumentException("a charge holds nothing: its ops must have a zero hold");
        }
        HolderCounters[] owners = owners(ops);
        long now = clock.millis();
        expireLeases(now);
        Map<String, Boolean> claimedIn = claimKey(idempotencyKey, now);
        if (claimedIn == null) {
            return ChargeResult.DUPLICATE;
        }
        try {
            applyCharge(ops, owners, now);
        } catch (RuntimeException e) {
            // Nothing was applied, so the same update must be able to try again.
            claimedIn.remove(idempotencyKey);
            throw e;
        }
        if (ops.settles() != null) {
            Lease settled = leases.remove(ops.settles());
            if (settled != null) {
                dues.remove(settled.due);
                settled.giveBack(changeEpoch.get());
            }
        }
        return ChargeResult.APPLIED;
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

    private void applyCharge(CounterOps ops, HolderCounters[] owners, long now) {
        HolderCounters[] locked = lockAll(owners);
        try {
            int size = ops.size();
            Cell[] cells = new Cell[size];
            Object call = new Object();
            for (int i = 0; i < size; i++) {
                Limit limit = ops.limits().get(i);
                Series series = claim(owners[i].series(limit), call);
                cells[i] = series.cell(limit.window().windowAt(now), now, retentionMillis);
                if (cells[i].value > Long.MAX_VALUE - ops.amount(i)) {
                    throw new ArithmeticException("charge of " + ops.amount(i) + " overflows the counter of " + limit
                            + " at " + cells[i].value);
                }
            }
            long epoch = changeEpoch.get();
            for (int i = 0; i < size; i++) {
                if (ops.amount(i) > 0) {
                    cells[i].value += ops.amount(i);
                    cells[i].changedAt = epoch;
                }
            }
        } finally {
            unlockAll(locked);
        }
    }

    /** Registers the holds of {@code ops}, just taken from {@code cells}, under a lease; returns its name. */
    private String lease(CounterOps ops, HolderCounters[] owners, Cell[] cells, long now) {
        long id = leaseIds.incrementAndGet();
        String token = "memory-lease:" + id;
        int size = ops.size();
        long[] holds = new long[size];
        for (int i = 0; i < size; i++) {
            holds[i] = ops.hold(i);
        }
        Due due = new Due(now + leaseMillis, id, token);
        leases.put(token, new Lease(owners.clone(), cells, holds, due));
        dues.add(due);
        return token;
    }

    /** Gives back the holds of every lease that expired by {@code now}, earliest first. */
    private void expireLeases(long now) {
        for (Due head = dues.ceiling(Due.FIRST); head != null && head.at <= now; head = dues.ceiling(Due.FIRST)) {
            if (!dues.remove(head)) {
                continue; // another caller took it
            }
            Lease lease = leases.get(head.token);
            // remove(key, value) gives back once, also when a settle races with the expiry
            if (lease != null && lease.due == head && leases.remove(head.token, lease)) {
                lease.giveBack(changeEpoch.get());
            }
        }
    }

    @Override
    public Duration leaseDuration() {
        return Duration.ofMillis(leaseMillis);
    }

    @Override
    public CompletionStage<Boolean> extendLease(String lease) {
        Objects.requireNonNull(lease, "lease");
        long now = clock.millis();
        expireLeases(now);
        Lease held = leases.get(lease);
        if (held == null) {
            return CompletableFuture.completedFuture(false);
        }
        Due old = held.due;
        Due later = new Due(now + leaseMillis, old.id, old.token);
        // the new due time first: an expiry that takes the old one meanwhile sees it is no longer the lease's
        held.due = later;
        dues.add(later);
        dues.remove(old);
        return CompletableFuture.completedFuture(leases.get(lease) == held);
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
     * the scan takes, so it is either seen now or stamped with the new epoch and seen next time. Versions grow with
     * the clock (a thousand per millisecond) and never go back, so the values of a store opened later, after a
     * restart, still win over older ones.
     */
    @Override
    public ChangeBatch changes() {
        synchronized (changesLock) {
            long since = scannedEpoch;
            scannedEpoch = changeEpoch.getAndIncrement();
            return new ChangeBatch(scan(since), ++batches);
        }
    }

    /**
     * Every counter value the store holds now (windows ended within the retention included), with a version above
     * every one handed out before; it does not change what {@link #changes()} reports next. For dashboards of a single
     * process, and tests.
     */
    public List<CounterSnapshot> snapshot() {
        synchronized (changesLock) {
            return scan(Long.MIN_VALUE);
        }
    }

    /** Guarded by changesLock: the cells changed after epoch {@code since}, with one new version. */
    private List<CounterSnapshot> scan(long since) {
        long version = Math.max(lastVersion + 1, Math.multiplyExact(Math.max(clock.millis(), 0), 1000));
        lastVersion = version;
        List<CounterSnapshot> found = new ArrayList<>();
        for (HolderCounters owner : holders.values()) {
            owner.lock.lock();
            try {
                for (Series series : owner.series) {
                    // requests in flight live with their leases: a snapshot of them would outlive both
                    if (series.id.metric() == Metric.IN_FLIGHT) {
                        continue;
                    }
                    for (Cell cell : series.cells) {
                        if (cell.changedAt > since) {
                            found.add(new CounterSnapshot(series.id, cell.window, cell.value, version));
                        }
                    }
                }
            } finally {
                owner.lock.unlock();
            }
        }
        return found;
    }

    @Override
    public void restore(Collection<CounterSnapshot> snapshots) {
        long now = clock.millis();
        for (CounterSnapshot snapshot : snapshots) {
            if (snapshot.window().endMillis() <= now || snapshot.counter().metric() == Metric.IN_FLIGHT) {
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
    private HolderCounters[] owners(CounterOps ops) {
        int size = ops.size();
        HolderCounters[] owners = new HolderCounters[size];
        Holder previous = null;
        for (int i = 0; i < size; i++) {
            Holder holder = ops.limits().get(i).holder();
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

    /** When a lease is due, ordered by that time, then by the lease's id. Immutable and thread-safe. */
    private record Due(long at, long id, String token) implements Comparable<Due> {
        static final Due FIRST = new Due(Long.MIN_VALUE, Long.MIN_VALUE, "");

        @Override
        public int compareTo(Due other) {
            int byTime = Long.compare(at, other.at);
            return byTime != 0 ? byTime : Long.compare(id, other.id);
        }
    }

    /** What one lease holds: the cells its holds were taken from, and until when. */
    private static final class Lease {
        final HolderCounters[] owners;
        final Cell[] cells;
        final long[] holds;
        volatile Due due;

        Lease(HolderCounters[] owners, Cell[] cells, long[] holds, Due due) {
            this.owners = owners;
            this.cells = cells;
            this.holds = holds;
            this.due = due;
        }

        /** Called once, by whoever removed the lease from the map. */
        void giveBack(long epoch) {
            HolderCounters[] locked = lockAll(owners);
            try {
                for (int i = 0; i < cells.length; i++) {
                    if (holds[i] > 0) {
                        cells[i].value = Math.max(0, cells[i].value - holds[i]);
                        cells[i].changedAt = epoch;
                    }
                }
            } finally {
                unlockAll(locked);
            }
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
        private Duration leaseDuration = Duration.ofMinutes(5);

        private Builder() {
        }

        /**
         * How long a reservation's holds (estimates, in-flight slots) are kept when nobody settles them; 5 minutes by
         * default.
         */
        public Builder leaseDuration(Duration lease) {
            if (lease == null || lease.isNegative() || lease.isZero()) {
                throw new IllegalArgumentException("leaseDuration: " + lease + " must be positive");
            }
            this.leaseDuration = lease;
            return this;
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
