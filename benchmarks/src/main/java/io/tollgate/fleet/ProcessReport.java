package io.tollgate.fleet;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report of a multi-process hot-key run ({@link ProcessFleet}): per window of the hot limit, what each replica
 * admitted and the sum against the maximum; the least share of the maximum over the full windows (those wholly
 * between the start and the stop) but the kill window; for the kill window, what it fell short of the maximum
 * beside what the killed replica held; the checks and what leased admission did; the Redis script calls per decision
 * and per 1,000 admitted; and the verdict, which fails when any window admitted more than the maximum.
 *
 * <p>Not thread-safe; built and printed once, after the replicas stopped. Its accessors are what tests check.
 */
final class ProcessReport {

    /** The share of the maximum every full window but the kill window should reach. */
    static final double TARGET_SHARE = 0.99;
    static final String VERDICT_OK = "OK (exit 0): no window admitted more than the hot key's max";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    /**
     * What the run cost in Redis commands ({@code null} when the second reading failed, {@code failure} says why),
     * of which {@code coordinatorScripts} script calls were the coordinator's reads of the hot counter, for
     * {@code decisions} checks decided and {@code admitted} of them admitted.
     *
     * <p>Immutable and thread-safe.
     */
    record RedisCalls(RedisCommandStats.Counts run, long coordinatorScripts, long decisions, long admitted,
                      String failure) {

        /** The replicas' script calls: the run's without the coordinator's reads. */
        long scripts() {
            return run.scripts() - coordinatorScripts;
        }

        double scriptsPerDecision() {
            return decisions == 0 ? Double.NaN : (double) scripts() / decisions;
        }

        double scriptsPerThousandAdmitted() {
            return admitted == 0 ? Double.NaN : 1_000.0 * scripts() / admitted;
        }
    }

    /**
     * One window of the hot limit: its start (Redis time), what each replica admitted in it, the hot counter's value
     * in Redis near the window's end ({@code null} when not read), and whether it is full (wholly inside the run)
     * and the window of the kill.
     *
     * <p>Immutable and thread-safe.
     */
    record Window(long start, List<Long> admittedByReplica, long decided, Long counted, boolean full, boolean kill) {

        long admitted() {
            return admittedByReplica.stream().mapToLong(Long::longValue).sum();
        }

        double share(long max) {
            return (double) admitted() / max;
        }
    }

    private final ProcessFleet.Settings settings;
    private final List<WindowCounts> counts;
    private final List<String> problems;
    private final double seconds;
    private final ProcessFleet.Kill kill;
    private final long readGuardMillis;
    private final RedisCalls calls;
    private final double maxShare;
    private final List<Window> windows = new ArrayList<>();

    /**
     * {@code problems}: per replica what went wrong, or null; {@code goAt} and {@code stopAt}: Redis time when the
     * replicas were told to start and to stop; {@code counted}: per window start the hot counter read
     * {@code readGuardMillis} before the window's end; {@code kill} and {@code calls} may be null (no kill, no
     * reading).
     */
    ProcessReport(ProcessFleet.Settings settings, List<WindowCounts> counts, List<String> problems, long goAt,
                  long stopAt, double seconds, ProcessFleet.Kill kill, Map<Long, Long> counted, long readGuardMillis,
                  RedisCalls calls, double maxShare) {
        this.settings = settings;
        this.counts = counts;
        this.problems = problems;
        this.seconds = seconds;
        this.kill = kill;
        this.readGuardMillis = readGuardMillis;
        this.calls = calls;
        this.maxShare = maxShare;
        WindowCounts first = counts.get(0);
        long length = first.windowMillis();
        long killWindow = kill == null ? Long.MIN_VALUE : Math.floorDiv(kill.beforeMillis(), length) * length;
        for (int i = 0; i < first.windowSlots(); i++) {
            long start = (first.firstWindow() + i) * length;
            List<Long> admitted = new ArrayList<>();
            long decided = 0;
            for (WindowCounts replica : counts) {
                admitted.add(replica.admittedIn(start));
                decided += replica.decidedIn(start);
            }
            if (decided > 0) {
                windows.add(new Window(start, List.copyOf(admitted), decided, counted.get(start),
                        start >= goAt && start + length <= stopAt, start == killWindow));
            }
        }
    }

    List<Window> windows() {
        return windows;
    }

    /** The full windows but the kill window. */
    List<Window> fullWindows() {
        return windows.stream().filter(w -> w.full() && !w.kill()).toList();
    }

    /** The window of the kill, or {@code null} without one (or when nothing was decided in it). */
    Window killWindow() {
        return windows.stream().filter(Window::kill).findFirst().orElse(null);
    }

    ProcessFleet.Kill kill() {
        return kill;
    }

    long max() {
        return settings.hotKey().max();
    }

    /** The least share of the maximum over {@link #fullWindows()}; NaN without any. */
    double minFullShare() {
        return fullWindows().stream().mapToDouble(w -> w.share(max())).min().orElse(Double.NaN);
    }

    /** What the kill window fell short of the maximum; -1 without a kill window. */
    long killUnderAdmission() {
        Window window = killWindow();
        return window == null ? -1 : max() - window.admitted();
    }

    /**
     * The stated bound of what one replica's slice of a counter can hold: {@code maxShare} of what was left when it
     * was taken, at most of the maximum.
     */
    long statedBound() {
        return (long) Math.floor(maxShare * max());
    }

    /**
     * What the kill window may fall short of the maximum by, at most: what the killed replica last published it held
     * unused (over all its counters, so more than its part of the hot counter), one more slice (taken since the
     * publication, or granted by a call whose reply never came back), and one check per worker thread (decided, not
     * yet recorded). -1 without a kill.
     */
    long killBound() {
        return kill == null ? -1 : kill.slicesHeld() + statedBound() + settings.threads();
    }

    /** Windows that admitted more than the maximum, or whose counter Redis found above it. */
    List<Window> violations() {
        return windows.stream().filter(w -> w.admitted() > max() || w.counted() != null && w.counted() > max())
                .toList();
    }

    RedisCalls calls() {
        return calls;
    }

    long total(int slot) {
        return counts.stream().mapToLong(c -> c.get(slot)).sum();
    }

    /** A store stat summed over the replicas, without what they did before the start (the warm-up). */
    long sinceStart(int slot) {
        return counts.stream().mapToLong(c -> c.sinceStart(slot)).sum();
    }

    /** Prints the report and returns the exit code of the run. */
    int print(PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "Per window of the hot limit (%s requests max %,d per %s; Redis time, UTC; counted: "
                        + "the counter in Redis, admitted plus slices held unused, read %d ms before the window's end; "
                        + "full: wholly between the start and the stop)%n", HotKey.KEY_ID, max(),
                FleetMain.format(settings.hotKey().window()), readGuardMillis);
        windowTable(out);
        out.println();
        shares(out);
        killWindow(out);
        checks(out);
        redisCalls(out);
        return verdict(out);
    }

    private void windowTable(PrintStream out) {
        List<String[]> rows = new ArrayList<>();
        int n = counts.size();
        String[] header = new String[n + 6];
        header[0] = "window";
        for (int i = 0; i < n; i++) {
            header[i + 1] = "replica " + i;
        }
        header[n + 1] = "admitted";
        header[n + 2] = "counted";
        header[n + 3] = "max";
        header[n + 4] = "share";
        header[n + 5] = "";
        rows.add(header);
        for (Window window : windows) {
            String[] row = new String[n + 6];
            row[0] = time(window.start());
            for (int i = 0; i < n; i++) {
                row[i + 1] = count(window.admittedByReplica().get(i));
            }
            row[n + 1] = count(window.admitted());
            row[n + 2] = window.counted() == null ? "-" : count(window.counted());
            row[n + 3] = count(max());
            row[n + 4] = String.format(Locale.ROOT, "%.2f %%", 100 * window.share(max()));
            row[n + 5] = (violations().contains(window) ? "ABOVE MAX " : "") + (window.kill() ? "kill"
                    : window.full() ? "" : "partial");
            rows.add(row);
        }
        Report.table(out, rows, "l" + "r".repeat(n + 4) + "l", true);
    }

    private void shares(PrintStream out) {
        List<Window> full = fullWindows();
        if (full.isEmpty()) {
            out.println("Full windows: none (a longer --duration gives some)");
            return;
        }
        Window least = full.stream().min((a, b) -> Long.compare(a.admitted(), b.admitted())).orElseThrow();
        double mean = full.stream().mapToDouble(w -> w.share(max())).average().orElse(Double.NaN);
        out.printf(Locale.ROOT, "Full windows: %d%s: min share %.2f %% (%s, %,d admitted), mean %.2f %%; target >= "
                        + "%.0f %%: %s%n", full.size(), kill == null ? "" : " (the kill window excluded)",
                100 * minFullShare(), time(least.start()), least.admitted(), 100 * mean, 100 * TARGET_SHARE,
                minFullShare() >= TARGET_SHARE ? "met" : "NOT met");
    }

    private void killWindow(PrintStream out) {
        if (kill == null) {
            return;
        }
        Window window = killWindow();
        long length = settings.hotKey().windowMillis();
        if (window == null) {
            out.printf(Locale.ROOT, "Kill window: nothing decided in the window of the kill at %s%n",
                    time(kill.beforeMillis()));
            return;
        }
        long under = killUnderAdmission();
        out.printf(Locale.ROOT, "Kill window %s: replica %d SIGKILLed %d ms into it%s; admitted %,d of max %,d: "
                        + "under-admission %,d (%.2f %% of max)%n", time(window.start()), kill.replica(),
                kill.beforeMillis() - window.start(),
                Math.floorDiv(kill.afterMillis(), length) * length == window.start() ? ""
                        : " (dead only after the window ended)",
                window.admitted(), max(), under, 100.0 * under / max());
        out.printf(Locale.ROOT, "  stated bound: what the killed replica held, each slice at most maxShare %.2f of "
                        + "what was left, so at most %.2f x max %,d = %,d: the under-admission is %s%n", maxShare,
                maxShare, max(), statedBound(), under <= statedBound() ? "within it" : "ABOVE it");
        out.printf(Locale.ROOT, "  the killed replica last published %,d requests held unused (over all its counters, "
                        + "%d ms before its death); with one slice taken since or in flight (%,d) and %d checks "
                        + "decided but not recorded: %,d: the under-admission is %s%n", kill.slicesHeld(),
                kill.publishedAgoMillis(), statedBound(), settings.threads(), killBound(),
                under <= killBound() ? "within it" : "ABOVE it");
        if (window.counted() != null) {
            out.printf(Locale.ROOT, "  Redis counted %,d in it %d ms before its end: %,d counted and never admitted "
                            + "(the killed replica's slices of it, and checks it decided but had not recorded)%n",
                    window.counted(), readGuardMillis, window.counted() - window.admitted());
        }
    }

    private void checks(PrintStream out) {
        long decisions = total(WindowCounts.DECISIONS);
        long admitted = total(WindowCounts.ADMITTED);
        int workers = settings.processes() * settings.threads();
        out.printf(Locale.ROOT, "Checks: %,d decided in %.1f s (%,.0f/s; demand %d x max = %,.0f/s), %,d admitted "
                        + "(%.1f %%), errors %,d%n", decisions, seconds, decisions / seconds, HotKey.DEMAND_FACTOR,
                settings.hotKey().ratePerThread(workers) * workers, admitted,
                decisions == 0 ? 0.0 : 100.0 * admitted / decisions, total(WindowCounts.ERRORS));
        demand(out, fullWindows().stream().filter(w -> killWindow() == null || w.start() < killWindow().start())
                .toList(), kill == null ? "full windows" : "full windows before the kill");
        if (kill != null) {
            demand(out, fullWindows().stream().filter(w -> w.start() > killWindow().start()).toList(),
                    "full windows after the kill");
        }
        if (total(WindowCounts.OUTSIDE) > 0) {
            out.printf(Locale.ROOT, "  %,d admitted checks fell outside the windows counted%n",
                    total(WindowCounts.OUTSIDE));
        }
        if (!settings.leases()) {
            out.printf(Locale.ROOT, "Stores since the start: %,d checks denied from memory of a spent counter, the "
                    + "rest decided by Redis (no leases)%n", sinceStart(WindowCounts.CACHED_DENIALS));
            return;
        }
        out.printf(Locale.ROOT, "Stores since the start: %,d checks admitted from slices without a call, %,d decided "
                        + "by Redis, %,d denied from memory of a spent counter; %,d slices taken, %,d given back%s%n",
                sinceStart(WindowCounts.LOCAL_ADMISSIONS), sinceStart(WindowCounts.SHARED_DECISIONS),
                sinceStart(WindowCounts.CACHED_DENIALS), sinceStart(WindowCounts.SLICE_REFILLS),
                sinceStart(WindowCounts.SLICE_RETURNS),
                kill == null ? "" : " (the killed replica's as it last published)");
    }

    /** The checks decided per window over {@code windows}: the demand the replicas sent. */
    private void demand(PrintStream out, List<Window> windows, String which) {
        if (windows.isEmpty()) {
            return;
        }
        double mean = windows.stream().mapToLong(Window::decided).average().orElse(Double.NaN);
        out.printf(Locale.ROOT, "  %s: %,.0f checks decided per window on average, %.2f x max%n", which, mean,
                mean / max());
    }

    private void redisCalls(PrintStream out) {
        out.println("Redis calls (INFO commandstats before the start and after the replicas exited, "
                + (settings.privateRedis() ? "on the fleet's own server: exact)"
                : "on a shared server: other clients' calls are included)"));
        if (calls == null) {
            out.println("  not measured");
            return;
        }
        if (calls.run() == null) {
            out.println("  not measured: " + calls.failure());
            return;
        }
        out.printf(Locale.ROOT, "  %,d script calls (EVALSHA+EVAL) for %,d decisions: %.3f per decision, %.1f per "
                        + "1,000 admitted (%,d admitted); the coordinator's %,d reads of the hot counter left out%n",
                calls.scripts(), calls.decisions(), calls.scriptsPerDecision(), calls.scriptsPerThousandAdmitted(),
                calls.admitted(), calls.coordinatorScripts());
        out.printf(Locale.ROOT, "  (%,d commands, those the scripts ran included: %s)%n", calls.run().total(),
                calls.run().top(4));
    }

    private int verdict(PrintStream out) {
        List<Window> over = violations();
        if (!over.isEmpty()) {
            for (Window window : over) {
                out.printf(Locale.ROOT, "FAIL (exit 1): window %s admitted %,d requests, max %,d%n",
                        time(window.start()), window.admitted(), max());
            }
            return Fleet.LIMIT_EXCEEDED;
        }
        long errors = total(WindowCounts.ERRORS);
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < problems.size(); i++) {
            if (problems.get(i) != null) {
                failed.add("replica " + i + " " + problems.get(i));
            }
        }
        if (errors > 0 || !failed.isEmpty()) {
            out.printf(Locale.ROOT, "FAIL (exit 3): %,d checks failed%s%n", errors,
                    failed.isEmpty() ? "" : "; " + String.join("; ", failed));
            return Fleet.STORE_ERRORS;
        }
        out.println(VERDICT_OK);
        return Fleet.OK;
    }

    static String time(long epochMillis) {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    private static String count(long value) {
        return String.format(Locale.ROOT, "%,d", value);
    }
}
