package io.tollgate.fleet;

import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.Outcome;
import io.tollgate.spi.CounterState;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The end-of-run report: one row per limit (holder, metric, window, max, used as the store reads it at the end,
 * checks admitted and denied, the most requests admitted in one window, overshoot), the outcomes, throughput and
 * latency percentiles, and the verdict.
 *
 * <p>Not thread-safe; built and printed once, after the workers stopped.
 */
final class Report {

    static final String TABLE_TITLE = "Limits (used: the store's value in the current window at the end; "
            + "peak: most requests admitted in one window)";

    private final Ledger ledger;
    private final Map<Limit, CounterState> used;
    private final Histogram checks;
    private final Histogram charges;
    private final double seconds;

    Report(Ledger ledger, Map<Limit, CounterState> used, Histogram checks, Histogram charges, double seconds) {
        this.ledger = ledger;
        this.used = used;
        this.checks = checks;
        this.charges = charges;
        this.seconds = seconds;
    }

    /** Prints the report and returns the exit code of the run. */
    int print(PrintStream out) {
        out.println();
        out.println(TABLE_TITLE);
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
                    String.format(Locale.ROOT, "%,d", stats.admitted.sum()),
                    String.format(Locale.ROOT, "%,d", stats.denied.sum()),
                    requests ? String.format(Locale.ROOT, "%,d", stats.peak()) + (stats.peak() > limit.max() ? " !" : "")
                            : "-",
                    value < 0 ? "?" : amount(limit.metric(), Math.max(0, value - limit.max())),
            });
        }
        table(out, rows);

        long total = ledger.checks.sum();
        out.println();
        StringBuilder outcomes = new StringBuilder("Outcomes:");
        for (Outcome outcome : Outcome.values()) {
            long count = ledger.outcome(outcome);
            if (count > 0) {
                outcomes.append(String.format(Locale.ROOT, " %s %,d (%.1f%%)", outcome, count, 100.0 * count / total));
            }
        }
        out.println(outcomes);
        out.printf(Locale.ROOT, "Throughput: %,.0f checks/s, %,.0f charges/s over %.1f s (%,d checks, %,d charges)%n",
                total / seconds, ledger.charges.sum() / seconds, seconds, total, ledger.charges.sum());
        out.println("Check latency: " + percentiles(checks));
        out.println("Charge latency: " + percentiles(charges));
        out.printf(Locale.ROOT, "Duplicates: re-sent %,d, refused as duplicates %,d, charged twice %,d%n",
                ledger.resent.sum(), ledger.refusedAsDuplicate.sum(), ledger.chargedTwice.sum());
        out.printf(Locale.ROOT, "Errors: %,d%s%n", ledger.errors.sum(),
                ledger.firstError() == null ? "" : " (first: " + ledger.firstError() + ")");

        List<Ledger.LimitStats> over = ledger.violations();
        int code = Fleet.OK;
        for (Ledger.LimitStats stats : over) {
            out.printf(Locale.ROOT, "FAIL: %s admitted %,d requests in one window, max %,d%n", stats.limit,
                    stats.peak(), stats.limit.max());
        }
        if (!over.isEmpty() || ledger.chargedTwice.sum() > 0) {
            if (ledger.chargedTwice.sum() > 0) {
                out.printf(Locale.ROOT, "FAIL: %,d re-sent updates were charged twice%n", ledger.chargedTwice.sum());
            }
            code = Fleet.LIMIT_EXCEEDED;
        } else if (ledger.errors.sum() > 0) {
            out.println("FAIL: store calls failed");
            code = Fleet.STORE_ERRORS;
        } else {
            out.println("OK: no request limit admitted more than its max in any window; no update charged twice");
        }
        return code;
    }

    static String amount(Metric metric, long value) {
        if (metric == Metric.COST) {
            return String.format(Locale.ROOT, "$%,.4f", value / 1e9);
        }
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

    private static void table(PrintStream out, List<String[]> rows) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder();
            String[] row = rows.get(r);
            for (int i = 0; i < row.length; i++) {
                // Names left-aligned, numbers right-aligned.
                String cell = i < 3 ? pad(row[i], widths[i], false) : pad(row[i], widths[i], true);
                line.append(cell).append(i + 1 < row.length ? "  " : "");
            }
            out.println(line.toString().stripTrailing());
            if (r == 0) {
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
