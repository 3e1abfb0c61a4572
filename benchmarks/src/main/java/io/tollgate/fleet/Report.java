package io.tollgate.fleet;

import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.Outcome;
import io.tollgate.redis.RedisStoreStats;
import io.tollgate.spi.CounterState;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The end-of-run report, in the order a newcomer asks: did every limit hold (one row per limit: holder, metric,
 * window, max, used as the store reads it at the end, checks admitted and denied, the most requests admitted in one
 * window, overshoot), how much was admitted and why the rest was denied (per kind of request and outcome), how the
 * admitted calls were charged (whole, streamed, failed) and what the re-sent duplicates were answered, throughput and
 * latency, on Redis the calls per decision, and last the verdict with its exit code.
 *
 * <p>Not thread-safe; built and printed once, after the workers stopped.
 */
final class Report {

    static final String TABLE_TITLE = "Limits (used: the store's value in the current window at the end; "
            + "peak: most requests admitted in one window)";
    static final String VERDICT_OK = "OK (exit 0): no request limit admitted more than its max in any window; "
            + "no update was charged twice";

    /**
     * What the run cost in Redis calls: over the whole run, and per kind of decision from the probe after it.
     * {@code run} is {@code null} when the second reading failed ({@code failure} says why); {@code leased} is what
     * leased admission did, {@code null} without it.
     *
     * <p>Immutable and thread-safe.
     */
    record RedisCalls(boolean exact, RedisCommandStats.PerDecision run, long checks, long charges,
                      long cachedDenials, RedisStoreStats leased, Probe probe, String failure) {

        RedisCalls withProbe(Probe probe) {
            return new RedisCalls(exact, run, checks, charges, cachedDenials, leased, probe, failure);
        }
    }

    /**
     * Checks, then charges, of one target one at a time after the run; {@code failure} when a call failed.
     *
     * <p>Immutable and thread-safe.
     */
    record Probe(Workload.Target target, RedisCommandStats.PerDecision check, RedisCommandStats.PerDecision charge,
                 String failure) {
    }

    private final Ledger ledger;
    private final Map<Limit, CounterState> used;
    private final Histogram checks;
    private final Histogram charges;
    private final double seconds;
    private final RedisCalls redis;

    /** {@code redis} is {@code null} when the store is not Redis. */
    Report(Ledger ledger, Map<Limit, CounterState> used, Histogram checks, Histogram charges, double seconds,
           RedisCalls redis) {
        this.ledger = ledger;
        this.used = used;
        this.checks = checks;
        this.charges = charges;
        this.seconds = seconds;
        this.redis = redis;
    }

    /** Prints the report and returns the exit code of the run. */
    int print(PrintStream out) {
        out.println();
        out.println(TABLE_TITLE);
        limits(out);
        out.println();
        admitted(out);
        calls(out);
        out.printf(Locale.ROOT, "Throughput: %,.0f checks/s, %,.0f charges/s over %.1f s (%,d checks, %,d charges)%n",
                ledger.checks.sum() / seconds, ledger.charges.sum() / seconds, seconds, ledger.checks.sum(),
                ledger.charges.sum());
        out.println("Check latency: " + percentiles(checks));
        out.println("Charge latency: " + percentiles(charges));
        if (redis != null) {
            redisCalls(out);
        }
        out.printf(Locale.ROOT, "Errors: %,d%s%n", ledger.errors.sum(),
                ledger.firstError() == null ? "" : " (first: " + ledger.firstError() + ")");
        return verdict(out);
    }

    private void limits(PrintStream out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"holder", "metric", "window", "max", "used", "admitted", "denied", "peak", "overshoot"});
        for (Ledger.LimitStats stats : ledger.limits()) {
            Limit limit = stats.limit;
            CounterState state = used.get(limit);
            long value = state == null ? -1 : state.used();
            boolean requests = limit.metric() == Metric.REQUESTS;
            rows.add(new String[] {
                    limit.holder().toString(),
                    limit.metric().name().toLowerCase(Locale.ROOT),
                    limit.window().id(),
                    amount(limit.metric(), limit.max()),
                    value < 0 ? "?" : amount(limit.metric(), value),
                    count(stats.admitted.sum()),
                    count(stats.denied.sum()),
                    requests ? count(stats.peak()) + (stats.peak() > limit.max() ? " !" : "") : "-",
                    value < 0 ? "?" : amount(limit.metric(), Math.max(0, value - limit.max())),
            });
        }
        table(out, rows, "lllrrrrrr", true);
    }

    /** The admitted share, then per kind of request what was admitted and which outcomes denied the rest. */
    private void admitted(PrintStream out) {
        long total = ledger.checks.sum();
        out.printf(Locale.ROOT, "Admitted: %,d of %,d checks (%.1f %%)%n", ledger.allowed.sum(), total,
                100 * ledger.admittedShare());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"  request", "checks", "admitted", "denied by"});
        for (Workload.Kind kind : Workload.Kind.values()) {
            long checked = ledger.checks(kind);
            if (checked == 0) {
                continue;
            }
            StringBuilder denied = new StringBuilder();
            for (Outcome outcome : Outcome.values()) {
                long count = ledger.outcome(kind, outcome);
                if (outcome != Outcome.ALLOWED && count > 0) {
                    denied.append(denied.isEmpty() ? "" : ", ").append(outcome).append(' ').append(count(count));
                }
            }
            rows.add(new String[] {"  " + kind.label, count(checked), count(ledger.outcome(kind, Outcome.ALLOWED)),
                    denied.isEmpty() ? "-" : denied.toString()});
        }
        table(out, rows, "lrrl", false);
    }

    private void calls(PrintStream out) {
        out.printf(Locale.ROOT, "Calls charged: %,d whole, %,d streamed in %,d chunks (usage on the final chunk only: "
                        + "%,d chunks charged), %,d failed part-way (charged what they used)%n",
                ledger.wholeCalls.sum(), ledger.streamedCalls.sum(), ledger.chunks.sum(), ledger.chunksCharged.sum(),
                ledger.failedCalls.sum());
        out.printf(Locale.ROOT, "Duplicates: %,d charged updates re-sent through another replica, %,d answered "
                        + "DUPLICATE, %,d charged twice%n",
                ledger.resent.sum(), ledger.refusedAsDuplicate.sum(), ledger.chargedTwice.sum());
    }

    private void redisCalls(PrintStream out) {
        out.println("Redis calls per decision (INFO commandstats before and after, "
                + (redis.exact() ? "on the fleet's own server: exact)"
                : "on a shared server: other clients' calls are included)"));
        RedisCommandStats.PerDecision run = redis.run();
        if (run == null) {
            out.println("  not measured: " + redis.failure());
            return;
        }
        out.printf(Locale.ROOT, "  the run: %,d script calls (EVALSHA+EVAL) and %,d commands for %,d checks and %,d "
                        + "charges that reached Redis: %s per decision%n",
                run.counts().scripts(), run.counts().total(), redis.checks(), redis.charges(), ratios(run));
        long checks = redis.checks() + redis.cachedDenials();
        out.printf(Locale.ROOT, "  denial cache: %,d checks denied by a replica's memory of a spent counter, without "
                        + "a call (%.1f %% of %,d checks)%n", redis.cachedDenials(),
                checks == 0 ? 0.0 : 100.0 * redis.cachedDenials() / checks, checks);
        RedisStoreStats leased = redis.leased();
        if (leased != null) {
            out.printf(Locale.ROOT, "  leased admission: %,d checks admitted from a replica's slices without a call, "
                            + "%,d decided by Redis; %,d slices taken, %,d given back, %,d requests held unused at the "
                            + "end%n", leased.localAdmissions(), leased.sharedDecisions(), leased.sliceRefills(),
                    leased.sliceReturns(), leased.slicesHeld());
            long decisions = checks + leased.localAdmissions() + redis.charges();
            out.printf(Locale.ROOT, "  every check and charge, those answered without a call included: %.3f script "
                    + "calls per decision (%,d decisions)%n", decisions == 0 ? Double.NaN
                    : (double) run.counts().scripts() / decisions, decisions);
        }
        Probe probe = redis.probe();
        if (probe != null && probe.failure() != null) {
            out.println("  one at a time: not measured: " + probe.failure());
        } else if (probe != null) {
            Workload.Target target = probe.target();
            out.printf(Locale.ROOT, "  one at a time after the run (%s, %s/%s): a check %s, a charge %s%n",
                    target.keyId() == null ? "no key" : target.keyId(), target.provider(), target.model(),
                    ratios(probe.check()), ratios(probe.charge()));
        }
        out.println("  (a script call is one round trip; commands count those the scripts ran too: "
                + run.counts().top(4) + ")");
    }

    /** Such as {@code 1.00 script calls and 13.76 commands}. */
    private static String ratios(RedisCommandStats.PerDecision calls) {
        if (calls.decisions() == 0) {
            return "no store call";
        }
        return String.format(Locale.ROOT, "%.2f script calls and %.2f commands", calls.scripts(), calls.commands());
    }

    private int verdict(PrintStream out) {
        List<Ledger.LimitStats> over = ledger.violations();
        long twice = ledger.chargedTwice.sum();
        if (!over.isEmpty() || twice > 0) {
            for (Ledger.LimitStats stats : over) {
                out.printf(Locale.ROOT, "FAIL (exit 1): %s admitted %,d requests in one window, max %,d%n",
                        stats.limit, stats.peak(), stats.limit.max());
            }
            if (twice > 0) {
                out.printf(Locale.ROOT, "FAIL (exit 1): %,d re-sent updates were charged twice%n", twice);
            }
            return Fleet.LIMIT_EXCEEDED;
        }
        if (ledger.errors.sum() > 0) {
            out.printf(Locale.ROOT, "FAIL (exit 3): %,d store calls failed%n", ledger.errors.sum());
            return Fleet.STORE_ERRORS;
        }
        out.println(VERDICT_OK);
        return Fleet.OK;
    }

    static String amount(Metric metric, long value) {
        if (metric == Metric.COST) {
            return String.format(Locale.ROOT, "$%,.4f", value / 1e9);
        }
        return count(value);
    }

    private static String count(long value) {
        return String.format(Locale.ROOT, "%,d", value);
    }

    static String percentiles(Histogram histogram) {
        if (histogram.getTotalCount() == 0) {
            return "no samples";
        }
        return String.format(Locale.ROOT, "p50 %s, p99 %s, p99.9 %s, max %s (%,d samples)",
                micros(histogram.getValueAtPercentile(50)), micros(histogram.getValueAtPercentile(99)),
                micros(histogram.getValueAtPercentile(99.9)), micros(histogram.getMaxValue()),
                histogram.getTotalCount());
    }

    private static String micros(long nanos) {
        return String.format(Locale.ROOT, "%,.1f us", nanos / 1e3);
    }

    /**
     * Prints {@code rows} in columns aligned as {@code align} says per column ({@code l} left, {@code r} right), with
     * a rule under the header when {@code rule}.
     */
    static void table(PrintStream out, List<String[]> rows, String align, boolean rule) {
        int[] widths = new int[align.length()];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder();
            String[] row = rows.get(r);
            for (int i = 0; i < row.length; i++) {
                line.append(pad(row[i], widths[i], align.charAt(i) == 'r')).append(i + 1 < row.length ? "  " : "");
            }
            out.println(line.toString().stripTrailing());
            if (r == 0 && rule) {
                int width = 0;
                for (int w : widths) {
                    width += w + 2;
                }
                out.println("-".repeat(width - 2));
            }
        }
    }

    private static String pad(String text, int width, boolean right) {
        String space = " ".repeat(Math.max(0, width - text.length()));
        return right ? space + text : text + space;
    }
}
