package io.tollgate.resilience.internal;

import io.tollgate.TollgateListener;
import io.tollgate.internal.Listeners;
import io.tollgate.spi.CounterOp;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Charges waiting for the primary store, oldest first, at most {@code capacity} of them. A charge that does not fit
 * is dropped: counted, reported, and logged at WARN once until the buffer has emptied again.
 *
 * <p>Thread-safe: any thread may offer; one replay thread polls and puts back.
 */
public final class UsageBuffer {

    /** One charge to replay: its idempotency key and ops, as the caller sent them. */
    public record Entry(String key, List<CounterOp> ops) {
    }

    private final int capacity;
    private final TollgateListener listener;
    private final Logger log;
    private final String name;
    private final ConcurrentLinkedDeque<Entry> entries = new ConcurrentLinkedDeque<>();
    /**
     * Entries held: in the deque, or polled for a replay still in flight. Reserved before adding, so the capacity
     * holds under races.
     */
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicLong buffered = new AtomicLong();
    private final AtomicLong replayed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicBoolean warned = new AtomicBoolean();

    public UsageBuffer(int capacity, TollgateListener listener, Logger log, String name) {
        this.capacity = capacity;
        this.listener = listener;
        this.log = log;
        this.name = name;
    }

    /** Adds at the tail; false, and counted as dropped, when the buffer is full. */
    public boolean offer(Entry entry) {
        int now = size.incrementAndGet();
        if (now > capacity) {
            size.decrementAndGet();
            if (warned.compareAndSet(false, true)) {
                log.warn("{}: the usage buffer is full ({} charges): further charges are dropped and lost until the "
                        + "primary store takes the buffered ones (logged once until the buffer empties)", name,
                        capacity);
            }
            dropped(1);
            return false;
        }
        entries.addLast(entry);
        buffered.incrementAndGet();
        Listeners.safely(() -> listener.usageBuffered(1, now));
        return true;
    }

    /**
     * Adds at the head, in their order and whatever the capacity: usage older than anything buffered (acknowledged
     * before a data loss), which the replay must send first.
     */
    public void addFirst(List<Entry> older) {
        if (older.isEmpty()) {
            return;
        }
        for (int i = older.size() - 1; i >= 0; i--) {
            entries.addFirst(older.get(i));
        }
        int now = size.addAndGet(older.size());
        buffered.addAndGet(older.size());
        Listeners.safely(() -> listener.usageBuffered(older.size(), now));
    }

    /**
     * Takes an entry back before it was replayed (the primary turned out to have counted it after all); false when
     * it is no longer buffered.
     */
    public boolean withdraw(Entry entry) {
        if (!entries.removeFirstOccurrence(entry)) {
            return false;
        }
        size.decrementAndGet();
        buffered.decrementAndGet();
        return true;
    }

    /**
     * Takes up to {@code max} entries from the head for a replay; they stay counted until {@link #replayed},
     * {@link #droppedPolled} or {@link #putBack}.
     */
    public List<Entry> poll(int max) {
        List<Entry> batch = new ArrayList<>(Math.min(max, Math.max(size.get(), 1)));
        while (batch.size() < max) {
            Entry entry = entries.pollFirst();
            if (entry == null) {
                break;
            }
            batch.add(entry);
        }
        return batch;
    }

    /** Puts polled entries that could not be sent back at the head, in their order. */
    public void putBack(List<Entry> unsent) {
        for (int i = unsent.size() - 1; i >= 0; i--) {
            entries.addFirst(unsent.get(i));
        }
    }

    /** Polled entries reached the primary. */
    public void replayed(int count) {
        if (count == 0) {
            return;
        }
        replayed.addAndGet(count);
        int now = size.addAndGet(-count);
        if (now == 0) {
            warned.set(false);
        }
        Listeners.safely(() -> listener.usageReplayed(count, now));
    }

    /** Polled entries were given up: usage lost. */
    public void droppedPolled(int count) {
        if (count == 0) {
            return;
        }
        size.addAndGet(-count);
        dropped(count);
    }

    /** Entries that never entered the buffer were given up: usage lost. */
    private void dropped(int count) {
        dropped.addAndGet(count);
        int now = size.get();
        Listeners.safely(() -> listener.usageDropped(count, now));
    }

    public boolean isEmpty() {
        return size.get() == 0;
    }

    public int size() {
        return size.get();
    }

    public long bufferedTotal() {
        return buffered.get();
    }

    public long replayedTotal() {
        return replayed.get();
    }

    public long droppedTotal() {
        return dropped.get();
    }
}
