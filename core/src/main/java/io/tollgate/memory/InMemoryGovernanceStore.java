package io.tollgate.memory;

import io.tollgate.CounterId;
import io.tollgate.Limit;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The embedded store: counters in this JVM, for a single gateway process or for tests. Exact and atomic within the
 * process; nothing is shared with other replicas and nothing survives a restart.
 *
 * <p>Thread-safe without a global lock: each counter has its own lock, and a call that touches several counters takes
 * their locks in one global order, so calls on disjoint counters never wait for each other and no two calls deadlock.
 * Time comes from the injected {@link Clock}. A window's value is kept until {@code expiredWindowRetention} after the
 * window ends, so that a snapshot flusher still sees its final value; then it is dropped on the next access.
 */
public final class InMemoryGovernanceStore implements GovernanceStore {

    private final Clock clock;
    private final long retentionMillis;
    private final long idempotencyMillis;
    private final Map<CounterId, Series> series = new ConcurrentHashMap<>();
    private final Map<String, Long> idempotencyKeys = new ConcurrentHashMap<>();
    private final AtomicLong changeSequence = new AtomicLong();
    private final AtomicLong seriesOrdinals = new AtomicLong();
    private final AtomicLong nextKeySweep = new AtomicLong();

    private InMemoryGovernanceStore(Builder builder) {
        this.clock = builder.clock;
        this.retentionMillis = builder.expiredWindowRetention.toMillis();
        this.idempotencyMillis = builder.idempotencyKeyLifetime.toMillis();
    }

    /** A store on the system clock with the default retention (1 minute) and idempotency key lifetime (24 hours). */
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
        Series[] locked = lockAll(ops);
        try {
            long now = clock.millis();
            Cell[] cells = new Cell[ops.size()];
            List<CounterState> states = new ArrayList<>(ops.size());
            boolean admitted = true;
            for (int i = 0; i < cells.length; i++) {
                Limit limit = ops.get(i).limit();
                Window window = limit.window().windowAt(now);
                cells[i] = locked[i].cell(window, now, retentionMillis);
                states.add(new CounterState(limit, cells[i].value, window));
                admitted &= CounterOp.fits(cells[i].value, ops.get(i).amount(), limit.max());
            }
            if (admitted) {
                long sequence = changeSequence.incrementAndGet();
                for (int i = 0; i < cells.length; i++) {
                    if (ops.get(i).amount() > 0) {
                        cells[i].value += ops.get(i).amount();
                        cells[i].changedAt = sequence;
                    }
                }
            }
            return new ReserveResult(admitted, states, now);
        } finally {
            unlockAll(locked);
        }
    }

    @Override
    public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
        return CompletableFuture.completedFuture(chargeNow(idempotencyKey, ops));
    }

    /** {@link #charge} without the future. */
    public ChargeResult chargeNow(String idempotencyKey, List<CounterOp> ops) {
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        long now = clock.millis();
        sweepIdempotencyKeys(now);
        Long previous = idempotencyKeys.putIfAbsent(idempotencyKey, now + idempotencyMillis);
        if (previous != null && previous > now) {
            return ChargeResult.DUPLICATE;
        }
        if (previous != null) {
            idempotencyKeys.put(idempotencyKey, now + idempotencyMillis);
        }
        try {
            applyCharge(ops, now);
            return ChargeResult.APPLIED;
        } catch (RuntimeException e) {
            // Nothing was applied, so the same update must be able to try again.
            idempotencyKeys.remove(idempotencyKey);
            throw e;
        }
    }

    private void applyCharge(List<CounterOp> ops, long now) {
        Series[] locked = lockAll(ops);
        try {
            Cell[] cells = new Cell[ops.size()];
            Cell[] released = new Cell[ops.size()];
            for (int i = 0; i < cells.length; i++) {
                CounterOp op = ops.get(i);
                cells[i] = locked[i].cell(op.limit().window().windowAt(now), now, retentionMillis);
                if (op.release() > 0) {
                    released[i] = locked[i].existing(op.releaseWindowStart());
                }
                if (cells[i].value > Long.MAX_VALUE - op.amount()) {
                    throw new ArithmeticException("charge of " + op.amount() + " overflows the counter of "
                            + op.limit() + " at " + cells[i].value);
                }
            }
            long sequence = changeSequence.incrementAndGet();
            for (int i = 0; i < cells.length; i++) {
                CounterOp op = ops.get(i);
                if (released[i] != null) {
                    released[i].value = Math.max(0, released[i].value - op.release());
                    released[i].changedAt = sequence;
                }
                if (op.amount() > 0) {
                    cells[i].value += op.amount();
                    cells[i].changedAt = sequence;
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
            Series counter = series(limit.counterId());
            Window window = limit.window().windowAt(now);
            counter.lock.lock();
            try {
                Cell cell = counter.existing(window.startMillis());
                states.add(new CounterState(limit, cell == null ? 0 : cell.value, window));
            } finally {
                counter.lock.unlock();
            }
        }
        return CompletableFuture.completedFuture(states);
    }

    /**
     * Scans every counter held: in-memory counts are few enough that a scan costs less than keeping a change log on
     * the hot path.
     */
    @Override
    public ChangeBatch changesSince(long mark) {
        long nextMark = changeSequence.get();
        List<CounterSnapshot> changed = new ArrayList<>();
        for (Series counter : series.values()) {
            counter.lock.lock();
            try {
                for (Cell cell : counter.cells) {
                    if (cell.changedAt > mark) {
                        changed.add(new CounterSnapshot(counter.id, cell.window, cell.value));
                    }
                }
            } finally {
                counter.lock.unlock();
            }
        }
        return new ChangeBatch(changed, nextMark);
    }

    @Override
    public void restore(Collection<CounterSnapshot> snapshots) {
        long now = clock.millis();
        for (CounterSnapshot snapshot : snapshots) {
            if (snapshot.window().endMillis() <= now) {
                continue;
            }
            Series counter = series(snapshot.counter());
            counter.lock.lock();
            try {
                Cell cell = counter.cell(snapshot.window(), now, retentionMillis);
                if (cell.value < snapshot.value()) {
                    cell.value = snapshot.value();
                    cell.changedAt = changeSequence.incrementAndGet();
                }
            } finally {
                counter.lock.unlock();
            }
        }
    }

    @Override
    public void close() {
        // Nothing to release: the store holds no thread or connection.
    }

    private Series series(CounterId id) {
        Series counter = series.get(id);
        return counter != null ? counter : series.computeIfAbsent(id, key -> new Series(key, seriesOrdinals.incrementAndGet()));
    }

    private Series[] lockAll(List<CounterOp> ops) {
        int size = ops.size();
        Series[] counters = new Series[size];
        for (int i = 0; i < size; i++) {
            counters[i] = series(ops.get(i).limit().counterId());
            for (int j = 0; j < i; j++) {
                if (counters[j] == counters[i]) {
                    throw new IllegalArgumentException("ops name the counter " + counters[i].id + " twice");
                }
            }
        }
        Series[] order = counters.clone();
        java.util.Arrays.sort(order, (a, b) -> Long.compare(a.ordinal, b.ordinal));
        int taken = 0;
        try {
            for (Series counter : order) {
                counter.lock.lock();
                taken++;
            }
        } catch (RuntimeException | Error e) {
            for (int i = taken - 1; i >= 0; i--) {
                order[i].lock.unlock();
            }
            throw e;
        }
        return counters;
    }

    private static void unlockAll(Series[] counters) {
        for (Series counter : counters) {
            counter.lock.unlock();
        }
    }

    private void sweepIdempotencyKeys(long now) {
        long due = nextKeySweep.get();
        if (now < due || !nextKeySweep.compareAndSet(due, now + Math.max(1_000, idempotencyMillis / 10))) {
            return;
        }
        idempotencyKeys.values().removeIf(expiresAt -> expiresAt <= now);
    }

    /** The windows of one counter; guarded by its lock. */
    private static final class Series {
        final CounterId id;
        final long ordinal;
        final ReentrantLock lock = new ReentrantLock();
        final List<Cell> cells = new ArrayList<>(2);

        Series(CounterId id, long ordinal) {
            this.id = id;
            this.ordinal = ordinal;
        }

        Cell cell(Window window, long now, long retentionMillis) {
            Cell found = null;
            for (Iterator<Cell> it = cells.iterator(); it.hasNext(); ) {
                Cell cell = it.next();
                if (cell.window.startMillis() == window.startMillis()) {
                    found = cell;
                } else if (!cell.window.isUnbounded() && cell.window.endMillis() + retentionMillis <= now) {
                    it.remove();
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

    /** One window's value; guarded by its series' lock. */
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

        /** How long a charge's idempotency key is remembered; 24 hours by default. */
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
