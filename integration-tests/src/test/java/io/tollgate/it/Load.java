package io.tollgate.it;

import io.tollgate.BudgetResolver;
import io.tollgate.ChargeOutcome;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.Money;
import io.tollgate.StoreException;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Threads that check and charge like a gateway does, in a loop: check, and when admitted charge some tokens and
 * their cost with the reservation. Keeps what was admitted and charged, so a test can compare the store with it, and
 * the latency of every call, per phase.
 */
final class Load {

    private final BudgetResolver resolver;
    private final UsageTracker tracker;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Latencies in microseconds of checks and charges (the caller's wait), of the current phase. */
    private final Recorder latencies = new Recorder(3);
    private final Map<String, Histogram> phases = new ConcurrentHashMap<>();

    final AtomicLong served = new AtomicLong();
    final AtomicLong admitted = new AtomicLong();
    final AtomicLong degraded = new AtomicLong();
    final AtomicLong denied = new AtomicLong();
    final AtomicLong checkFailures = new AtomicLong();
    final AtomicLong tokensCharged = new AtomicLong();
    final AtomicLong costCharged = new AtomicLong();
    final AtomicLong chargesLost = new AtomicLong();
    final AtomicLong tokensLost = new AtomicLong();

    Load(BudgetResolver resolver, UsageTracker tracker, int threadCount, long pauseMicros) {
        this.resolver = resolver;
        this.tracker = tracker;
        for (int t = 0; t < threadCount; t++) {
            int id = t;
            Thread thread = new Thread(() -> run(id, pauseMicros), "load-" + t);
            thread.setDaemon(true);
            threads.add(thread);
        }
        threads.forEach(Thread::start);
    }

    private void run(int id, long pauseMicros) {
        CheckRequest request = CheckRequest.builder().virtualKey(Fixtures.SECRET).provider(Fixtures.PROVIDER)
                .model(Fixtures.MODEL).build();
        long i = 0;
        try {
            while (running.get()) {
                i++;
                long start = System.nanoTime();
                Decision decision;
                try {
                    decision = resolver.check(request);
                } catch (StoreException e) {
                    checkFailures.incrementAndGet();
                    continue;
                } finally {
                    latencies.recordValue(Math.max(1, (System.nanoTime() - start) / 1_000));
                }
                served.incrementAndGet();
                if (decision.degraded()) {
                    degraded.incrementAndGet();
                }
                if (!decision.allowed()) {
                    denied.incrementAndGet();
                } else {
                    admitted.incrementAndGet();
                    long tokens = 1 + (i * 7 + id) % 100;
                    long cost = tokens * 1_234;
                    UsageUpdate update = UsageUpdate.builder().virtualKey(Fixtures.SECRET)
                            .provider(Fixtures.PROVIDER).model(Fixtures.MODEL)
                            .tokens(tokens).cost(Money.ofNanos(cost))
                            .requestId("load-" + id + "-" + i)
                            .reservation(decision.reservation().orElseThrow())
                            .build();
                    long chargeStart = System.nanoTime();
                    try {
                        ChargeOutcome outcome = tracker.charge(update);
                        if (outcome == ChargeOutcome.CHARGED) {
                            tokensCharged.addAndGet(tokens);
                            costCharged.addAndGet(cost);
                        } else {
                            throw new AssertionError("a fresh request id was charged as " + outcome);
                        }
                    } catch (StoreException e) {
                        chargesLost.incrementAndGet();
                        tokensLost.addAndGet(tokens);
                    } finally {
                        latencies.recordValue(Math.max(1, (System.nanoTime() - chargeStart) / 1_000));
                    }
                }
                if (pauseMicros > 0) {
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(pauseMicros));
                }
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    /** Ends the phase running so far under {@code name}; the next phase starts now. */
    Histogram phase(String name) {
        Histogram histogram = latencies.getIntervalHistogram();
        phases.put(name, histogram);
        return histogram;
    }

    Histogram histogram(String name) {
        return phases.get(name);
    }

    /** Stops every thread and rethrows what failed in one. */
    void stop() throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join(10_000);
        }
        if (failure.get() != null) {
            throw new AssertionError("a load thread failed", failure.get());
        }
    }

    /** p99 of a phase in milliseconds. */
    static double p99Millis(Histogram histogram) {
        return histogram.getValueAtPercentile(99) / 1_000.0;
    }

    static double maxMillis(Histogram histogram) {
        return histogram.getMaxValue() / 1_000.0;
    }
}
