package io.tollgate.resilience.internal;

import io.tollgate.Limit;
import io.tollgate.spi.CounterOp;
import org.slf4j.Logger;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.Predicate;

/**
 * The usage the primary store acknowledged that no snapshot flush has persisted yet: what a data loss of the primary
 * would take with it, and so what must be replayed on top of its restored counters.
 *
 * <h2>Which reads hold which usage</h2>
 * Flush reads ({@code changes}) are numbered as they start. Every acknowledged charge or reservation is kept
 * with an <em>epoch</em>: a read numbered above its epoch surely saw it. When a flusher reports a batch persisted,
 * the read that returned that batch is persisted, and every entry whose epoch is below its number is dropped.
 * Charges and reservations go through a gate: a read waits until none is in flight (at most the call timeout) and
 * holds new ones until it ends, so each is wholly before or wholly after a read, and its epoch, the number of reads
 * started when it was sent, is exact. A read is a few round trips every flush interval, so the hold is short; a read
 * that could not wait out the calls in flight confirms nothing (their entries may then be replayed although
 * persisted: an error toward counting twice, never toward losing).
 * The log is off until the first flush read, so that a store whose flusher reads its primary directly never
 * replays usage that its snapshots already hold. It holds at most {@code capacity} entries; beyond that the oldest
 * are dropped (counted, logged once).
 *
 * <p>Thread-safe: one small lock, never held across I/O.
 */
public final class AckLog {

    /**
     * One acknowledged charge (with its idempotency key) or reservation (key null: its amounts are replayed as a
     * charge under a new key).
     */
    public record Entry(String key, List<CounterOp> ops, long epoch) {

        public boolean reservation() {
            return key == null;
        }
    }

    private static final int MAX_READS = 4_096;

    private final int capacity;
    private final Logger log;
    private final String name;
    private final Object lock = new Object();
    private volatile boolean active;
    /** Guarded by lock. */
    private long readsStarted;
    private boolean reading;
    private int inFlight;
    private final List<Runnable> held = new ArrayList<>();
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    /** Reads that returned a batch: {read number, batch sequence}, oldest first. */
    private final ArrayDeque<long[]> reads = new ArrayDeque<>();
    private long dropped;
    private boolean warned;

    public AckLog(int capacity, Logger log, String name) {
        this.capacity = capacity;
        this.log = log;
        this.name = name;
    }

    /** Whether reads go through the store, so that entries can be confirmed. */
    public boolean active() {
        return active;
    }

    /** Starts logging: a flusher reads through the store. */
    public void activate() {
        if (!active && capacity > 0) {
            synchronized (lock) {
                active = true;
            }
        }
    }

    /**
     * Sends a call that changes counters through the gate: runs {@code send} now with its epoch, or holds it until
     * the read in progress ends. When the log is off, {@code send} runs at once with epoch -1. Every send with an
     * epoch of 0 or more must be followed by {@link #chargeDone} or {@link #reservationDone}.
     */
    public void dispatch(LongConsumer send) {
        if (!active) {
            send.accept(-1);
            return;
        }
        long epoch;
        synchronized (lock) {
            if (reading) {
                held.add(() -> dispatch(send));
                return;
            }
            inFlight++;
            epoch = readsStarted;
        }
        send.accept(epoch);
    }

    /** A charge sent with {@code epoch} ended; {@code key} and {@code ops} when the primary applied it, else null. */
    public void chargeDone(long epoch, String key, List<CounterOp> ops) {
        if (epoch < 0) {
            return;
        }
        synchronized (lock) {
            inFlight--;
            if (key != null) {
                append(new Entry(key, ops, epoch));
            }
            if (inFlight == 0 && reading) {
                lock.notifyAll();
            }
        }
    }

    /** A reservation sent with {@code epoch} ended; {@code ops} when the primary admitted it, else null. */
    public void reservationDone(long epoch, List<CounterOp> ops) {
        if (epoch < 0) {
            return;
        }
        synchronized (lock) {
            inFlight--;
            if (ops != null) {
                append(new Entry(null, ops, epoch));
            }
            if (inFlight == 0 && reading) {
                lock.notifyAll();
            }
        }
    }

    /**
     * Starts a read: from now on calls are held, and this waits up to {@code waitNanos} for those in flight.
     *
     * @return the read's number, negative when calls were still in flight (the read then confirms nothing)
     */
    public long beginRead(long waitNanos) {
        synchronized (lock) {
            reading = true;
            long number = ++readsStarted;
            long deadline = System.nanoTime() + waitNanos;
            boolean interrupted = false;
            while (inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    interrupted = true;
                    break;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return inFlight == 0 ? number : -number;
        }
    }

    /** Ends a read, with the sequence of the batch it returned (negative when it failed), and sends the calls it held. */
    public void endRead(long number, long mark) {
        List<Runnable> release;
        synchronized (lock) {
            reading = false;
            if (number > 0 && mark >= 0) {
                reads.addLast(new long[] {number, mark});
                if (reads.size() > MAX_READS) {
                    reads.pollFirst();
                }
            }
            release = new ArrayList<>(held);
            held.clear();
        }
        for (Runnable send : release) {
            send.run();
        }
    }

    /** A flusher persisted every batch up to {@code mark}: drops what the read that returned it saw. */
    public void confirm(long mark) {
        synchronized (lock) {
            long confirmed = -1;
            for (long[] read : reads) {
                if (read[1] == mark) {
                    confirmed = read[0];
                }
            }
            if (confirmed < 0) {
                return;
            }
            long upTo = confirmed;
            entries.removeIf(entry -> entry.epoch() < upTo);
            reads.removeIf(read -> read[0] < upTo);
        }
    }

    /**
     * Takes what a data loss of the counters of {@code lost} limits took and no snapshot held, for replay: every
     * unconfirmed charge that changed one of them, whole (its idempotency key keeps the counters that were not lost
     * from taking it twice), and of every unconfirmed reservation what it took of them. Entries of other counters
     * stay.
     */
    public List<Entry> takeForReplay(Predicate<Limit> lost) {
        synchronized (lock) {
            List<Entry> replay = new ArrayList<>();
            List<Entry> stay = new ArrayList<>(entries.size());
            for (Entry entry : entries) {
                List<CounterOp> hit = entry.ops().stream().filter(op -> lost.test(op.limit())).toList();
                if (hit.isEmpty()) {
                    stay.add(entry);
                } else if (!entry.reservation()) {
                    replay.add(entry);
                } else {
                    replay.add(new Entry(null, hit, entry.epoch()));
                    if (hit.size() < entry.ops().size()) {
                        // what it took of the counters that were not lost is still counted there: that part stays
                        stay.add(new Entry(null, entry.ops().stream().filter(op -> !lost.test(op.limit())).toList(),
                                entry.epoch()));
                    }
                }
            }
            entries.clear();
            entries.addAll(stay);
            return replay;
        }
    }

    public int size() {
        synchronized (lock) {
            return entries.size();
        }
    }

    public long droppedTotal() {
        synchronized (lock) {
            return dropped;
        }
    }

    /** Guarded by lock. */
    private void append(Entry entry) {
        entries.addLast(entry);
        if (entries.size() > capacity) {
            entries.pollFirst();
            dropped++;
            if (!warned) {
                warned = true;
                log.warn("{}: more than {} acknowledged charges and reservations wait for a snapshot flush; the oldest "
                        + "are no longer kept for a replay after a data loss (is the flusher reading through this "
                        + "store and succeeding?); logged once", name, capacity);
            }
        }
    }
}
