package io.tollgate.it;

import io.tollgate.TollgateListener;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Counts failed store calls per operation. */
final class CountingListener implements TollgateListener {

    private final TollgateListener next;
    private final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();

    CountingListener(TollgateListener next) {
        this.next = next;
    }

    long failures(String operation) {
        AtomicLong count = failures.get(operation);
        return count == null ? 0 : count.get();
    }

    @Override
    public void storeCall(String operation, long nanos, boolean succeeded) {
        if (!succeeded) {
            failures.computeIfAbsent(operation, k -> new AtomicLong()).incrementAndGet();
        }
        next.storeCall(operation, nanos, succeeded);
    }

    @Override
    public void decided(io.tollgate.Decision decision) {
        next.decided(decision);
    }

    @Override
    public void storeStateChanged(StoreState state) {
        next.storeStateChanged(state);
    }

    @Override
    public void usageBuffered(int charges, int bufferedNow) {
        next.usageBuffered(charges, bufferedNow);
    }

    @Override
    public void usageReplayed(int charges, int bufferedNow) {
        next.usageReplayed(charges, bufferedNow);
    }

    @Override
    public void usageDropped(int charges, int bufferedNow) {
        next.usageDropped(charges, bufferedNow);
    }

    @Override
    public void storeDataLost(int chargesToReplay) {
        next.storeDataLost(chargesToReplay);
    }

    @Override
    public void restoreRun(int snapshots, long nanos, boolean succeeded) {
        next.restoreRun(snapshots, nanos, succeeded);
    }

    @Override
    public void flushed(boolean succeeded, java.time.Instant lastSuccessfulFlush, int pending) {
        next.flushed(succeeded, lastSuccessfulFlush, pending);
    }
}
