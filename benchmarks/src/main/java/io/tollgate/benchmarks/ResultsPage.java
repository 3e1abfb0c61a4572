package io.tollgate.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Writes {@code benchmarks/RESULTS.md} and its charts from JMH's JSON output ({@code -rf json -rff FILE}) of
 * {@link HotPathBenchmark} and {@link FloorBenchmark}: throughput, latency percentiles and allocation of every check
 * and charge, each as a multiple of the floors of the same run (the in-memory store against a bare map and adder, the
 * Redis store against a one-key {@code EVALSHA} and the bare hierarchical scripts), with the JDK, CPU count, Redis
 * version and thread counts; and the Redis-side times of {@link RedisSideTimes} when given.
 *
 * <p>Run headless, from the repository root, after the JMH runs:
 * <pre>{@code
 * java -Djava.awt.headless=true -cp benchmarks/target/benchmarks.jar io.tollgate.benchmarks.ResultsPage \
 *     benchmarks/results/jmh-t1.json benchmarks/results/jmh-t4.json benchmarks/results/jmh-t16.json
 * }</pre>
 *
 * <p>Not thread-safe; a command-line tool.
 */
@Command(name = "results-page", mixinStandardHelpOptions = true,
        description = "Writes RESULTS.md and PNG charts from JMH JSON results.")
public final class ResultsPage implements Callable<Integer> {

    static final String FLOOR_MEMORY = "memoryCounter";
    static final String FLOOR_PING = "redisPing";
    static final String FLOOR_SCRIPT = "redisScript";
    static final String FLOOR_BARE_CHECK = "redisBareCheck";
    static final String FLOOR_BARE_CHARGE = "redisBareCharge";
    /** The bare hierarchical floor an operation is compared with, by the counters it takes. */
    static final String BARE = "bare";
    static final List<String> OPERATIONS = List.of("check", "checkWithEstimates", "charge");
    /** JMH's {@code -prof gc} bytes per operation (named with a leading dot before JMH 1.37). */
    static final String ALLOCATION = "gc.alloc.rate.norm";

    @Parameters(arity = "1..*", paramLabel = "JSON", description = "JMH result files (-rf json).")
    List<Path> inputs;

    @Option(names = "--out", defaultValue = "benchmarks/RESULTS.md", description = "Markdown page to write.")
    Path out;

    @Option(names = "--charts", defaultValue = "benchmarks/results", description = "Folder for the PNG charts.")
    Path charts;

    @Option(names = "--redis-version", description = "Redis version to record; asked of the server when left out.")
    String redisVersion;

    @Option(names = "--redis-side", description = "JSON written by RedisSideTimes, for the Redis-side times.")
    Path redisSide;

    @Option(names = "--script-calls", description = "JSON lines written by LeasedCheckBenchmark (system property "
            + LeasedCheckBenchmark.CALLS_OUT + "): Redis script calls per admitted check, per trial.")
    Path scriptCalls;

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(new CommandLine(new ResultsPage()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        List<Result> results = new ArrayList<>();
        JsonNode first = null;
        ObjectMapper json = new ObjectMapper();
        for (Path input : inputs) {
            JsonNode root = json.readTree(input.toFile());
            if (!root.isArray()) {
                throw new IllegalArgumentException(input + ": not a JMH JSON result (expected an array)");
            }
            for (JsonNode node : root) {
                first = first == null ? node : first;
                results.add(Result.of(node));
            }
        }
        if (results.isEmpty()) {
            throw new IllegalArgumentException("no results in " + inputs);
        }
        Files.createDirectories(charts);
        String version = redisVersion != null ? redisVersion : detectRedisVersion();
        String page = page(results, first, version);
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(out, page, StandardCharsets.UTF_8);
        System.out.println("wrote " + out + " from " + results.size() + " results");
        return 0;
    }

    String page(List<Result> results, JsonNode first, String version) throws IOException {
        TreeSet<Integer> threads = new TreeSet<>();
        results.forEach(r -> threads.add(r.threads));
        boolean[] partial = {false};
        StringBuilder md = new StringBuilder();
        md.append("# Benchmark results\n\n");
        md.append("Generated by `io.tollgate.benchmarks.ResultsPage` from the JMH JSON in `results/`; regenerate rather "
                + "than edit. Numbers from one machine are comparable with each other, not with another machine's.\n\n");
        md.append("## Environment\n\n| | |\n|---|---|\n");
        md.append("| JDK | ").append(first.path("jdkVersion").asText()).append(" (").append(first.path("vmName").asText())
                .append(' ').append(first.path("vmVersion").asText()).append(") |\n");
        md.append("| CPUs | ").append(Runtime.getRuntime().availableProcessors()).append(cpuModel().map(m -> " × " + m)
                .orElse("")).append(" |\n");
        md.append("| OS | ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"))
                .append(' ').append(System.getProperty("os.arch")).append(" |\n");
        md.append("| Redis | ").append(version).append(RedisLauncher.configuredUri() != null
                ? " (from " + RedisLauncher.URI_VARIABLE + ") |\n"
                : " (a redis-server on localhost started by each fork, no persistence) |\n");
        md.append("| JMH | ").append(first.path("jmhVersion").asText()).append(", forks ")
                .append(first.path("forks").asInt()).append(", warmup ").append(first.path("warmupIterations").asInt())
                .append(" × ").append(first.path("warmupTime").asText()).append(", measurement ")
                .append(first.path("measurementIterations").asInt()).append(" × ")
                .append(first.path("measurementTime").asText()).append(" |\n");
        md.append("| Threads | ").append(String.join(", ", threads.stream().map(String::valueOf).toList()))
                .append(" (JMH `-t`) |\n");
        md.append("| Date | ").append(LocalDate.now(ZoneOffset.UTC)).append(" |\n\n");

        md.append("## Floors\n\nThe least a counter can cost in each store, measured in the same run: a bare "
                + "`ConcurrentHashMap` + `LongAdder` increment; on the Redis store's own connection a Lettuce "
                + "`PING`, a one-key `INCR` script by `EVALSHA` (the trivial floor), and the bare hierarchical "
                + "scripts: the least a 7-level atomic check does (`TIME`, one `MGET` of its 21 counters, the fit "
                + "test, 7 `INCRBY`: `redisBareCheck`) and the same taking all 21 (`redisBareCharge`).\n\n");
        md.append("| floor | threads | ops/s | p50 µs | p99 µs |\n|---|---:|---:|---:|---:|\n");
        for (String floor : List.of(FLOOR_MEMORY, FLOOR_PING, FLOOR_SCRIPT, FLOOR_BARE_CHECK, FLOOR_BARE_CHARGE)) {
            for (int t : threads) {
                Stat stat = stat(results, floor, null, 0, t);
                if (stat.present()) {
                    md.append("| ").append(floor).append(" | ").append(t).append(" | ").append(ops(stat.opsPerSecond))
                            .append(mark(stat.partialOps, partial)).append(" | ").append(micros(stat.p50))
                            .append(mark(stat.partialLatency, partial)).append(" | ").append(micros(stat.p99))
                            .append(mark(stat.partialLatency, partial)).append(" |\n");
                }
            }
        }
        footnote(md, partial);

        headline(md, results, threads);
        section(md, results, threads, StoreFixture.MEMORY, List.of(FLOOR_MEMORY), partial);
        section(md, results, threads, StoreFixture.REDIS, List.of(FLOOR_SCRIPT, BARE), partial);
        hotKey(md, results, threads, scriptCalls == null ? List.of() : Files.readAllLines(scriptCalls));
        if (redisSide != null) {
            redisSideTimes(md, new ObjectMapper().readTree(redisSide.toFile()));
        }

        md.append("## How to reproduce\n\n```\n")
                .append("mvn -B -pl benchmarks -am package -DskipTests\n")
                .append("for t in 1 4 16; do\n")
                .append("  java -jar benchmarks/target/benchmarks.jar -t $t -f 1 -wi 2 -i 3 -w 2s -r 3s -prof gc \\\n")
                .append("      -rf json -rff benchmarks/results/jmh-t$t.json\n")
                .append("done\n")
                .append("taskset -c 0 java -cp benchmarks/target/benchmarks.jar io.tollgate.benchmarks.RedisSideTimes "
                        + "\\\n    --server-cpu 1 --threads 1 --out benchmarks/results/redis-side.json\n")
                .append("java -Djava.awt.headless=true -cp benchmarks/target/benchmarks.jar "
                        + "io.tollgate.benchmarks.ResultsPage \\\n    --redis-side benchmarks/results/redis-side.json "
                        + "benchmarks/results/jmh-t*.json\n")
                .append("```\n\n")
                .append("Each level holds three counters (a request limit, a token limit, a budget). A check takes "
                        + "the request slot of every level and reads the token and cost counters; a check with "
                        + "estimates takes all of them (the estimates under a lease); a charge adds tokens, cost and "
                        + "the request to all of them with an idempotency key. A ratio is how many times the floor's "
                        + "cost one operation has: the floor's ops/s divided by the operation's, or the operation's "
                        + "p50 divided by the floor's. The bare floor of a check is `redisBareCheck`, of a check with "
                        + "estimates and of a charge `redisBareCharge`. Allocation is JMH's `gc.alloc.rate.norm` "
                        + "(`-prof gc`), bytes allocated per operation by the client JVM.\n");
        return md.toString();
    }

    /** The bare hierarchical floor of {@code operation}: what a script must do for the counters it takes. */
    static String bareFloor(String operation) {
        return operation.equals("check") ? FLOOR_BARE_CHECK : FLOOR_BARE_CHARGE;
    }

    /** 7 levels on Redis at the fewest and the most threads of the run, against both floors. */
    private static void headline(StringBuilder md, List<Result> results, TreeSet<Integer> threads) {
        int fewest = threads.first();
        int most = threads.last();
        StringBuilder rows = new StringBuilder();
        for (String operation : OPERATIONS) {
            Stat one = stat(results, operation, StoreFixture.REDIS, 7, fewest);
            Stat many = stat(results, operation, StoreFixture.REDIS, 7, most);
            if (!one.present() && !many.present()) {
                continue;
            }
            Stat scriptOne = stat(results, FLOOR_SCRIPT, null, 0, fewest);
            Stat scriptMany = stat(results, FLOOR_SCRIPT, null, 0, most);
            Stat bareOne = stat(results, bareFloor(operation), null, 0, fewest);
            Stat bareMany = stat(results, bareFloor(operation), null, 0, most);
            rows.append("| ").append(operation).append(" | ").append(micros(one.p50)).append(" | ")
                    .append(ratio(one.p50, scriptOne.p50)).append(" | ").append(ratio(one.p50, bareOne.p50))
                    .append(" | ").append(ops(many.opsPerSecond)).append(" | ")
                    .append(ratio(many.opsPerSecond, scriptMany.opsPerSecond)).append(" | ")
                    .append(ratio(many.opsPerSecond, bareMany.opsPerSecond)).append(" |\n");
        }
        if (rows.isEmpty()) {
            return;
        }
        md.append("## Headline: 7 levels on Redis\n\nOne Lettuce connection, 21 counters far from any maximum. "
                + "Latency at ").append(fewest).append(fewest == 1 ? " thread" : " threads")
                .append(" as a multiple of the floor's p50 (lower is better), throughput at ").append(most)
                .append(" threads as a share of the floor's (higher is better).\n\n");
        md.append("| operation | p50 µs, ").append(fewest).append("t | × redisScript | × bare | ops/s, ").append(most)
                .append("t | × redisScript | × bare |\n|---|---:|---:|---:|---:|---:|---:|\n").append(rows)
                .append('\n');
    }

    /**
     * One hot key of 7 levels with leased admission ({@link LeasedCheckBenchmark}) and with coalesced charges
     * ({@link CoalescedChargeBenchmark}), beside the plain operations and the trivial floor of the same thread count.
     */
    private static void hotKey(StringBuilder md, List<Result> results, TreeSet<Integer> threads, List<String> calls)
            throws IOException {
        StringBuilder rows = new StringBuilder();
        ObjectMapper json = new ObjectMapper();
        for (int t : threads) {
            Stat floor = stat(results, FLOOR_SCRIPT, null, 0, t);
            for (String[] pair : new String[][] {{"LeasedCheckBenchmark", "check"},
                    {"CoalescedChargeBenchmark", "charge"}}) {
                Stat hot = statOf(results, pair[0], pair[1], t);
                if (!hot.present()) {
                    continue;
                }
                Stat plain = stat(results, pair[1], StoreFixture.REDIS, 7, t);
                String perThousand = "–";
                for (String line : calls) {
                    JsonNode trial = line.isBlank() ? null : json.readTree(line);
                    if (trial != null && trial.path("threads").asInt() == t
                            && trial.path("benchmark").asText().startsWith(pair[0])) {
                        perThousand = String.format(Locale.ROOT, "%.2f",
                                1_000.0 * trial.path("scriptCalls").asLong() / trial.path("admitted").asLong());
                    }
                }
                rows.append("| ").append(pair[0]).append('.').append(pair[1]).append(" | ").append(t).append(" | ")
                        .append(ops(hot.opsPerSecond)).append(" | ").append(micros(hot.p50)).append(" | ")
                        .append(micros(hot.p99)).append(" | ").append(ratio(hot.opsPerSecond, floor.opsPerSecond))
                        .append(" | ").append(ratio(hot.p50, floor.p50)).append(" | ")
                        .append(ratio(hot.opsPerSecond, plain.opsPerSecond)).append(" | ").append(perThousand)
                        .append(" |\n");
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        md.append("## Hot key: leased admission and coalesced charges\n\n")
                .append("The 7-level check with every limit leased (admitted from this replica's slices, a script "
                        + "call only to refill them) and the 7-level charge with coalesced charges (500 µs, 16 a "
                        + "call), against the trivial floor (`redisScript`) and the plain operation of the same run "
                        + "and thread count. Script calls per 1,000 admitted checks are counted by Redis "
                        + "(`INFO commandstats`) over each trial.\n\n")
                .append("| operation | threads | ops/s | p50 µs | p99 µs | × redisScript (ops/s) | "
                        + "× redisScript (p50) | × plain (ops/s) | script calls per 1,000 |\n"
                        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
                .append(rows).append('\n');
    }

    /** The table of {@link RedisSideTimes}: server time per call of each script. */
    private static void redisSideTimes(StringBuilder md, JsonNode rows) {
        md.append("## Redis-side time per call\n\nMeasured by `RedisSideTimes` on a private `redis-server`: "
                + "`INFO commandstats` microseconds per `EVALSHA` over 5,000 calls per script and round, rounds "
                + "alternating the scripts; the median round, and the median over the rounds of each script's "
                + "time divided by its bare script's in the same round. `return 1` is sent the very keys and "
                + "arguments of a check and of a charge: the server's cost of receiving them.\n\n");
        md.append("| script | EVALSHA per op | µs per call | spread | × bare |\n|---|---:|---:|---:|---:|\n");
        for (JsonNode row : rows) {
            md.append("| ").append(row.path("script").asText()).append(" | ")
                    .append(String.format(Locale.ROOT, "%.2f", row.path("callsPerOp").asDouble())).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f", row.path("microsPerCall").asDouble())).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f–%.1f", row.path("min").asDouble(),
                            row.path("max").asDouble())).append(" | ")
                    .append(String.format(Locale.ROOT, "%.2f×", row.path("ratioToBare").asDouble()))
                    .append(" |\n");
        }
        md.append('\n');
    }

    private void section(StringBuilder md, List<Result> results, TreeSet<Integer> threads, String store,
                         List<String> floors, boolean[] partial) throws IOException {
        if (results.stream().noneMatch(r -> store.equals(r.store))) {
            return;
        }
        md.append("## ").append(store.equals(StoreFixture.MEMORY) ? "In-memory store" : "Redis store").append("\n\n");
        md.append("| operation | levels | threads | ops/s | p50 µs | p99 µs | alloc B/op |");
        StringBuilder rule = new StringBuilder("|---|---:|---:|---:|---:|---:|---:|");
        for (String floor : floors) {
            md.append(" × ").append(floor).append(" (ops/s) | × ").append(floor).append(" (p50) |");
            rule.append("---:|---:|");
        }
        md.append('\n').append(rule).append('\n');
        DefaultCategoryDataset chart = new DefaultCategoryDataset();
        for (String operation : OPERATIONS) {
            for (int levels : List.of(1, 3, 7)) {
                for (int t : threads) {
                    Stat stat = stat(results, operation, store, levels, t);
                    if (!stat.present()) {
                        continue;
                    }
                    md.append("| ").append(operation).append(" | ").append(levels).append(" | ").append(t)
                            .append(" | ").append(ops(stat.opsPerSecond)).append(mark(stat.partialOps, partial))
                            .append(" | ").append(micros(stat.p50)).append(mark(stat.partialLatency, partial))
                            .append(" | ").append(micros(stat.p99)).append(mark(stat.partialLatency, partial))
                            .append(" | ").append(bytes(stat.allocatedBytes)).append(" |");
                    for (String floor : floors) {
                        Stat base = stat(results, floor.equals(BARE) ? bareFloor(operation) : floor, null, 0, t);
                        md.append(' ').append(ratio(base.opsPerSecond, stat.opsPerSecond)).append(" | ")
                                .append(ratio(stat.p50, base.p50)).append(" |");
                    }
                    md.append('\n');
                    Stat base = stat(results, floors.get(0), null, 0, t);
                    if (stat.p50 > 0 && base.p50 > 0) {
                        chart.addValue(stat.p50 / base.p50, t + (t == 1 ? " thread" : " threads"),
                                operation + " " + levels + "L");
                    }
                }
            }
        }
        footnote(md, partial);
        String file = "ratios-" + store + ".png";
        if (chart.getColumnCount() > 0) {
            writeChart(chart, store, floors.get(0), charts.resolve(file));
            Path relative = out.toAbsolutePath().getParent().relativize(charts.toAbsolutePath().resolve(file));
            md.append("![p50 of ").append(store).append(" as a multiple of ").append(floors.get(0)).append("](")
                    .append(relative.toString().replace('\\', '/')).append(")\n");
        }
        md.append('\n');
    }

    /** ¹ after a number that rests on fewer measurement iterations than asked; {@code seen[0]} remembers one. */
    private static String mark(boolean partial, boolean[] seen) {
        if (!partial) {
            return "";
        }
        seen[0] = true;
        return " ¹";
    }

    private static void footnote(StringBuilder md, boolean[] seen) {
        if (seen[0]) {
            md.append("\n¹ An iteration of this benchmark failed (a store call timed out on the loaded machine); the "
                    + "number rests on the iterations that completed.\n");
            seen[0] = false;
        }
        md.append('\n');
    }

    private static void writeChart(DefaultCategoryDataset data, String store, String floor, Path file)
            throws IOException {
        JFreeChart chart = ChartFactory.createBarChart(store + " store: p50 latency as a multiple of " + floor,
                "operation and levels", "× " + floor + " p50", data, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer bars = (BarRenderer) plot.getRenderer();
        bars.setBarPainter(new StandardBarPainter());
        bars.setShadowVisible(false);
        double max = 0;
        double min = Double.MAX_VALUE;
        for (int row = 0; row < data.getRowCount(); row++) {
            for (int column = 0; column < data.getColumnCount(); column++) {
                Number value = data.getValue(row, column);
                if (value != null) {
                    max = Math.max(max, value.doubleValue());
                    min = Math.min(min, value.doubleValue());
                }
            }
        }
        // Ratios of the in-memory store span orders of magnitude; a log axis keeps the small bars visible.
        if (min > 0 && max / min > 20) {
            LogAxis axis = new LogAxis("× " + floor + " p50 (log)");
            axis.setSmallestValue(Math.min(1, min));
            plot.setRangeAxis(axis);
        }
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 960, 540);
    }

    /** A benchmark of {@code benchmarkClass} by method and threads. */
    private static Stat statOf(List<Result> results, String benchmarkClass, String method, int threads) {
        List<Result> ofClass = results.stream().filter(r -> r.benchmarkClass.equals(benchmarkClass)).toList();
        return stat(ofClass, method, null, 0, threads);
    }

    private static Stat stat(List<Result> results, String method, String store, int levels, int threads) {
        double ops = Double.NaN;
        double p50 = Double.NaN;
        double p99 = Double.NaN;
        double allocated = Double.NaN;
        boolean partialOps = false;
        boolean partialLatency = false;
        for (Result r : results) {
            if (!r.method.equals(method) || r.threads != threads || (store != null
                    && (!store.equals(r.store) || r.levels != levels))) {
                continue;
            }
            if (r.mode.equals("thrpt")) {
                ops = r.opsPerSecond();
                partialOps = r.partial();
                allocated = r.allocatedBytes();
            } else if (r.mode.equals("sample")) {
                p50 = r.micros(r.percentile("50.0"));
                p99 = r.micros(r.percentile("99.0"));
                partialLatency = r.partial();
            }
        }
        return new Stat(ops, p50, p99, allocated, partialOps, partialLatency);
    }

    static String bytes(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%,.0f", value);
    }

    static String ops(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%,.0f", value);
    }

    static String micros(double value) {
        if (Double.isNaN(value)) {
            return "–";
        }
        return String.format(Locale.ROOT, value < 10 ? "%.3f" : "%,.1f", value);
    }

    static String ratio(double numerator, double denominator) {
        if (Double.isNaN(numerator) || Double.isNaN(denominator) || denominator <= 0) {
            return "–";
        }
        double value = numerator / denominator;
        return String.format(Locale.ROOT, value < 10 ? "%.2f×" : "%,.0f×", value);
    }

    private static Optional<String> cpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return Optional.empty();
        }
        try {
            return Files.readAllLines(cpuinfo).stream().filter(line -> line.startsWith("model name"))
                    .map(line -> line.substring(line.indexOf(':') + 1).trim()).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The version of the configured Redis, else of the {@code redis-server} on the {@code PATH}. */
    static String detectRedisVersion() {
        if (RedisLauncher.configuredUri() != null) {
            try (RedisBackend redis = RedisBackend.open()) {
                return redis.serverVersion();
            } catch (RuntimeException e) {
                return "unknown (" + e.getMessage() + ")";
            }
        }
        try {
            Process process = new ProcessBuilder("redis-server", "--version").redirectErrorStream(true).start();
            String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor(5, TimeUnit.SECONDS);
            int at = text.indexOf("v=");
            return at < 0 ? text.trim() : text.substring(at + 2).split("\\s")[0];
        } catch (IOException e) {
            return "unknown (no redis-server on the PATH)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private record Stat(double opsPerSecond, double p50, double p99, double allocatedBytes, boolean partialOps,
                        boolean partialLatency) {
        boolean present() {
            return !Double.isNaN(opsPerSecond) || !Double.isNaN(p50);
        }
    }

    /** One JMH result: a benchmark method, its parameters, mode and primary metric. */
    record Result(String benchmarkClass, String method, String store, int levels, int threads, String mode,
                  double score, String unit, Map<String, Double> percentiles, int iterations, int expectedIterations,
                  double allocatedBytes) {

        static Result of(JsonNode node) {
            String benchmark = node.path("benchmark").asText();
            String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
            String qualifiedClass = benchmark.substring(0, benchmark.lastIndexOf('.'));
            String benchmarkClass = qualifiedClass.substring(qualifiedClass.lastIndexOf('.') + 1);
            JsonNode params = node.path("params");
            JsonNode metric = node.path("primaryMetric");
            Map<String, Double> percentiles = new LinkedHashMap<>();
            metric.path("scorePercentiles").fields().forEachRemaining(e -> percentiles.put(e.getKey(),
                    e.getValue().asDouble()));
            int iterations = 0;
            JsonNode raw = metric.has("rawData") ? metric.path("rawData") : metric.path("rawDataHistogram");
            for (JsonNode fork : raw) {
                iterations += fork.size();
            }
            return new Result(benchmarkClass, method, params.path("store").asText(null), params.path("levels").asInt(0),
                    node.path("threads").asInt(1), node.path("mode").asText(), metric.path("score").asDouble(),
                    metric.path("scoreUnit").asText(), percentiles, iterations,
                    node.path("measurementIterations").asInt() * Math.max(1, node.path("forks").asInt()),
                    allocation(node.path("secondaryMetrics")));
        }

        private static double allocation(JsonNode secondary) {
            JsonNode metric = secondary.has(ALLOCATION) ? secondary.path(ALLOCATION)
                    : secondary.path("\u00b7" + ALLOCATION);
            return metric.path("score").asDouble(Double.NaN);
        }

        /** Whether an iteration failed (a store timeout, say), so the score rests on fewer iterations than asked. */
        boolean partial() {
            return iterations < expectedIterations;
        }

        double percentile(String key) {
            return percentiles.getOrDefault(key, Double.NaN);
        }

        double opsPerSecond() {
            String per = unit.substring(unit.indexOf('/') + 1);
            return score * perSecond(per);
        }

        double micros(double value) {
            String of = unit.substring(0, unit.indexOf('/'));
            return value / perSecond(of) * 1_000_000;
        }

        private static double perSecond(String unit) {
            return switch (unit) {
                case "ns" -> 1e9;
                case "us" -> 1e6;
                case "ms" -> 1e3;
                case "s" -> 1;
                case "min" -> 1.0 / 60;
                default -> throw new IllegalArgumentException("unknown time unit \"" + unit + "\"");
            };
        }
    }
}
