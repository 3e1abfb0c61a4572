package io.tollgate.fleet;

import io.tollgate.ConfigException;
import io.tollgate.benchmarks.RedisLauncher;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fleet load tool: simulated gateway replicas share one store and enforce one configuration under a gateway's
 * traffic (see {@link Workload}): tenants with room to spare, one or two at their limits, streamed calls, re-sent
 * charges, a few unknown, blocked and keyless requests. The report says what was admitted and why the rest was
 * denied, per limit what was admitted against its maximum in each window, and on Redis the Redis calls per decision;
 * the run fails when a request limit admitted more than its maximum in a window or a re-sent charge counted twice.
 *
 * <pre>{@code
 * mvn -B -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/tollgate-fleet.jar                          # in-memory store, built-in example
 * java -jar benchmarks/target/tollgate-fleet.jar --redis redis://127.0.0.1:6379 --replicas 8 --duration 30s
 * java -jar benchmarks/target/tollgate-fleet.jar --redis local --config my-config.json
 * java -jar benchmarks/target/tollgate-fleet.jar --rate 0                 # as fast as the store answers
 * java -jar benchmarks/target/tollgate-fleet.jar --redis redis://127.0.0.1:6379 --leases --processes 4 --threads 8 \
 *      --kill-one --duration 30s                                         # one hot key, replica processes, a SIGKILL
 * }</pre>
 *
 * <p>With {@code --processes}, the replicas are separate JVMs instead (see {@link ProcessFleet}) and send one hot
 * key's check at 5 times its maximum; the report then says per window what was admitted against the maximum, the least
 * share of it, what a window with a replica SIGKILLed ({@code --kill-one}) fell short by beside what that replica held,
 * and the Redis calls per decision; the run fails when a window admitted more than the maximum.
 *
 * <p>Exit codes: 0 when every request limit held and no re-sent update was charged twice, 1 when a limit let too
 * many through or an update was charged twice, 2 for bad options or a bad configuration file, 3 when store calls
 * failed during the run, 4 when the run could not start (a Redis that cannot be reached, say).
 *
 * <p>Not thread-safe; a command-line entry point.
 */
@Command(name = "tollgate-fleet", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs simulated gateway replicas against one shared store and reports what was admitted and "
                + "why the rest was denied, per limit what was admitted against its max, and on Redis the Redis "
                + "calls per decision. With --processes, the replicas are separate JVMs that all check one hot key "
                + "at 5 times its max, and the report says per window what they admitted against it.",
        footer = {"", "Exit codes: 0 every request limit held, 1 a request limit admitted more than its max in a "
                + "window (or an update was charged twice), 2 bad options or configuration, 3 store calls failed, "
                + "4 the run could not start."})
public final class FleetMain implements Callable<Integer> {

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

    @Option(names = "--replicas", defaultValue = "4",
            description = "Simulated gateway replicas, threads of this JVM (default: ${DEFAULT-VALUE}).")
    int replicas;

    @Option(names = "--threads", defaultValue = "4",
            description = "Worker threads per replica or replica process (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--duration", defaultValue = "10s", converter = DurationConverter.class,
            description = "How long to run, such as 500ms, 10s, 2m (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Governance configuration as JSON (the format core's ConfigLoader reads); its virtual "
                    + "keys send Zipf-like shares of the traffic in file order. The built-in example when left out.")
    Path config;

    @Option(names = "--redis", paramLabel = "URI",
            description = "Redis to share, such as redis://127.0.0.1:6379, or 'local' to start a redis-server from "
                    + "the PATH for the run (its Redis calls per decision are then exact); the in-memory store when "
                    + "left out.")
    String redis;

    @Option(names = "--rate", defaultValue = "50",
            description = "Checks per second per worker thread, the pace the example configuration's limits are set "
                    + "for; 0 sends as fast as the store answers, a stress test (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--leases",
            description = "Build the Redis stores with leased admission on every limit: a replica takes slices of "
                    + "a request counter's window from Redis and admits against them without a call. Needs --redis.")
    boolean leases;

    @Option(names = "--processes", paramLabel = "N",
            description = "Run N replica processes instead, separate JVMs each with its own Redis client and store, "
                    + "all checking one hot key (in a team of a customer) at 5 times its --max per --window; the "
                    + "pace per thread follows from that. Needs --redis; --replicas, --rate, --config and --seed do "
                    + "not apply.")
    Integer processes;

    @Option(names = "--max", defaultValue = "2000",
            description = "With --processes: the hot key's requests per window (default: ${DEFAULT-VALUE}).")
    long max;

    @Option(names = "--window", defaultValue = "1s", converter = DurationConverter.class,
            description = "With --processes: the hot key's rolling window, at least 100ms (default: "
                    + "${DEFAULT-VALUE}).")
    Duration window;

    @Option(names = "--warm-up", defaultValue = "10s", converter = DurationConverter.class,
            description = "With --processes: how long each replica process first sends the same check of a tenant "
                    + "of its own at the same pace, so that the run starts with compiled code (default: "
                    + "${DEFAULT-VALUE}).")
    Duration warmUp;

    @Option(names = "--kill-one",
            description = "With --processes (2 or more): SIGKILL the last replica process a tenth of the way into "
                    + "the window after " + ProcessFleet.WARM_UP_WINDOWS + " full windows, and run on with the "
                    + "others; the report says what that window fell short of the max beside what the killed "
                    + "replica held.")
    boolean killOne;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the workload's random choices (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--print-config", description = "Print the built-in example configuration and exit.")
    boolean printConfig;

    @Spec
    CommandSpec spec;

    private PrintStream out = System.out;
    private Fleet fleet;
    private ProcessFleet processFleet;

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /** Runs the tool with {@code args}, printing to {@code out} and {@code err}; returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        return execute(out, err, args).code();
    }

    /**
     * The exit code of a run and what the fleet saw: the ledger of a fleet of threads, the report of a fleet of
     * processes, each {@code null} when no such fleet ran.
     */
    record Result(int code, Ledger ledger, ProcessReport processes) {
    }

    static Result execute(PrintStream out, PrintStream err, String... args) {
        FleetMain command = new FleetMain();
        command.out = out;
        int code = new CommandLine(command)
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .setExecutionExceptionHandler((e, line, parsed) -> {
                    line.getErr().println("fleet: " + e.getMessage());
                    return e instanceof ConfigException || e instanceof IllegalArgumentException ? 2 : 4;
                })
                .execute(args);
        return new Result(code, command.fleet == null ? null : command.fleet.ledger(),
                command.processFleet == null ? null : command.processFleet.report());
    }

    @Override
    public Integer call() throws Exception {
        if (printConfig) {
            out.print(FleetConfig.exampleJson());
            return 0;
        }
        if (replicas < 1) {
            throw new IllegalArgumentException("--replicas: " + replicas + " must be at least 1");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("--threads: " + threads + " must be at least 1");
        }
        if (rate < 0 || Double.isNaN(rate)) {
            throw new IllegalArgumentException("--rate: " + rate + " must be zero or positive");
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("--duration: " + duration + " must be positive");
        }
        if (leases && redis == null) {
            throw new IllegalArgumentException("--leases: leased admission is a Redis store's; give --redis");
        }
        if (processes != null) {
            return runProcesses();
        }
        for (String option : List.of("--max", "--window", "--warm-up", "--kill-one")) {
            if (given(option)) {
                throw new IllegalArgumentException(option + ": applies to a run with --processes only");
            }
        }
        FleetConfig fleetConfig = FleetConfig.load(config);
        if (!"local".equals(redis)) {
            fleet = new Fleet(new Fleet.Settings(replicas, threads, duration, fleetConfig, redis, false, seed, rate,
                    leases), out);
            return fleet.run();
        }
        try (RedisLauncher launcher = RedisLauncher.start()) {
            fleet = new Fleet(new Fleet.Settings(replicas, threads, duration, fleetConfig, launcher.uri(), true, seed,
                    rate, leases), out);
            return fleet.run();
        }
    }

    private int runProcesses() throws Exception {
        if (processes < 1) {
            throw new IllegalArgumentException("--processes: " + processes + " must be at least 1");
        }
        if (redis == null) {
            throw new IllegalArgumentException("--processes: the replica processes share a Redis; give --redis");
        }
        for (String option : List.of("--replicas", "--rate", "--config", "--seed")) {
            if (given(option)) {
                throw new IllegalArgumentException(option + ": does not apply with --processes (the hot key's "
                        + "configuration and pace follow from --max and --window)");
            }
        }
        HotKey hotKey = new HotKey(max, window);
        if (warmUp.isNegative()) {
            throw new IllegalArgumentException("--warm-up: " + warmUp + " must not be negative");
        }
        if (killOne && processes < 2) {
            throw new IllegalArgumentException("--kill-one: needs --processes 2 or more, so that some run on");
        }
        boolean local = "local".equals(redis);
        try (RedisLauncher launcher = local ? RedisLauncher.start() : null) {
            ProcessFleet.Settings settings = new ProcessFleet.Settings(processes, threads, duration, warmUp, hotKey,
                    local ? launcher.uri() : redis, local, leases, killOne);
            if (killOne && duration.compareTo(settings.shortestWithKill()) < 0) {
                throw new IllegalArgumentException("--kill-one: --duration " + format(duration) + " must be at "
                        + "least " + format(settings.shortestWithKill()) + " (" + (ProcessFleet.WARM_UP_WINDOWS + 3)
                        + " windows: the first, partial, " + ProcessFleet.WARM_UP_WINDOWS + " to warm up, the kill "
                        + "window and one full window after it)");
            }
            processFleet = new ProcessFleet(settings, out);
            return processFleet.run();
        }
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    static String format(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /**
     * Reads {@code 500ms}, {@code 10s}, {@code 1.5m}, {@code 1h} or an ISO-8601 duration.
     *
     * <p>Stateless and thread-safe.
     */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Matcher m = DURATION.matcher(value.trim());
            if (m.matches()) {
                double amount = Double.parseDouble(m.group(1));
                double millis = switch (m.group(2)) {
                    case "ms" -> amount;
                    case "s" -> amount * 1_000;
                    case "m" -> amount * 60_000;
                    default -> amount * 3_600_000;
                };
                return Duration.ofMillis(Math.round(millis));
            }
            try {
                return Duration.parse(value.toUpperCase(Locale.ROOT));
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("\"" + value
                        + "\" is not a duration (expected such as 500ms, 10s, 2m, 1h)");
            }
        }
    }
}
