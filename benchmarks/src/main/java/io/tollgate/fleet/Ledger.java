package io.tollgate.fleet;

import io.tollgate.CounterId;
import io.tollgate.Decision;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.LimitUsage;
import io.tollgate.Metric;
import io.tollgate.Outcome;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the fleet saw, from the decisions and charge outcomes alone: per limit, how many checks it admitted and denied
 * and, for request limits, how many it admitted in each window; per kind of request and outcome, how many checks
 * ended so; how the admitted calls went (whole, streamed in chunks, failed) and what their charges answered; and the
 * duplicates re-sent. The store is not asked here, so the ledger is an independent witness of what the store let
 * through.
 *
 * <p>Thread-safe: every worker records into it at once.
 */
final class Ledger {

    private final Map<CounterId, LimitStats> limits = new ConcurrentHashMap<>();
    /** Per kind of request, the checks per outcome (indexed by ordinal). */
    private final Map<Workload.Kind, LongAdder[]> outcomes = new EnumMap<>(Workload.Kind.class);
    final LongAdder checks = new LongAdder();
    final LongAdder allowed = new LongAdder();
    /** Updates that charged something or were answered as duplicates, re-sent ones included. */
    final LongAdder charges = new LongAdder();
    final LongAdder wholeCalls = new LongAdder();
    final LongAdder failedCalls = new LongAdder();
    final LongAdder streamedCalls = new LongAdder();
    final LongAdder chunks = new LongAdder();
    /**
     * Chunks charged: at most one per streamed call, its final chunk, since the others carry no usage and the check
     * already took the request.
     */
    final LongAdder chunksCharged = new LongAdder();
    final LongAdder resent = new LongAdder();
    final LongAdder refusedAsDuplicate = new LongAdder();
    final LongAdder chargedTwice = new LongAdder();
    final LongAdder errors = new LongAdder();
    private volatile String firstError;

    Ledger() {
        for (Workload.Kind kind : Workload.Kind.values()) {
            LongAdder[] counts = new LongAdder[Outcome.values().length];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
            }
            outcomes.put(kind, counts);
        }
    }

    void record(Workload.Kind kind, Decision decision) {
        checks.increment();
        outcomes.get(kind)[decision.outcome().ordinal()].increment();
        if (decision.allowed()) {
            allowed.increment();
            for (LimitUsage usage : decision.limits()) {
                stats(usage.limit()).admitted(usage.window().startMillis());
            }
        } else {
            decision.deniedBy().ifPresent(usage -> stats(usage.limit()).denied.increment());
        }
    }

    void error(RuntimeException e) {
        errors.increment();
        if (firstError == null) {
            firstError = e.toString();
        }
    }

    String firstError() {
        return firstError;
    }

    long outcome(Outcome outcome) {
        long sum = 0;
        for (LongAdder[] counts : outcomes.values()) {
            sum += counts[outcome.ordinal()].sum();
        }
        return sum;
    }

    long outcome(Workload.Kind kind, Outcome outcome) {
        return outcomes.get(kind)[outcome.ordinal()].sum();
    }

    long checks(Workload.Kind kind) {
        long sum = 0;
        for (LongAdder count : outcomes.get(kind)) {
            sum += count.sum();
        }
        return sum;
    }

    /** Admitted checks over all checks; 0 before any check. */
    double admittedShare() {
        long total = checks.sum();
        return total == 0 ? 0 : (double) allowed.sum() / total;
    }

    /** The stats of the limits of {@code holder} on {@code metric} that checks met (one per window layout). */
    List<LimitStats> limits(Holder holder, Metric metric) {
        return limits().stream()
                .filter(stats -> stats.limit.holder().equals(holder) && stats.limit.metric() == metric)
                .toList();
    }

    private LimitStats stats(Limit limit) {
        CounterId id = limit.counterId();
        LimitStats stats = limits.get(id);
        return stats != null ? stats : limits.computeIfAbsent(id, key -> new LimitStats(limit));
    }

    /** Every limit seen, in the order of the hierarchy: holder kind, holder id, metric, window. */
    List<LimitStats> limits() {
        List<LimitStats> all = new ArrayList<>(limits.values());
        all.sort(Comparator.comparing((LimitStats s) -> s.limit.holder().kind())
                .thenComparing(s -> s.limit.holder().id())
                .thenComparing(s -> s.limit.metric())
                .thenComparing(s -> s.limit.window().id()));
        return all;
    }

    /** Request limits that admitted more than their maximum in some window. */
    List<LimitStats> violations() {
        List<LimitStats> over = new ArrayList<>();
        for (LimitStats stats : limits()) {
            if (stats.limit.metric() == Metric.REQUESTS && stats.peak() > stats.limit.max()) {
                over.add(stats);
            }
        }
        return over;
    }

    /**
     * One limit's counts.
     *
     * <p>Thread-safe.
     */
    static final class LimitStats {
        final Limit limit;
        final LongAdder admitted = new LongAdder();
        final LongAdder denied = new LongAdder();
        private final Map<Long, LongAdder> admittedByWindow = new ConcurrentHashMap<>();

        LimitStats(Limit limit) {
            this.limit = limit;
        }

        void admitted(long windowStart) {
            admitted.increment();
            if (limit.metric() == Metric.REQUESTS) {
                admittedByWindow.computeIfAbsent(windowStart, start -> new LongAdder()).increment();
            }
        }

        /** The most requests admitted in any one window; 0 for token and cost limits. */
        long peak() {
            long peak = 0;
            for (LongAdder count : admittedByWindow.values()) {
                peak = Math.max(peak, count.sum());
            }
            return peak;
        }

        int windows() {
            return admittedByWindow.size();
        }
    }
}
