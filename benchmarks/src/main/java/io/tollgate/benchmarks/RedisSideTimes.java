package io.tollgate.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandStartedEvent;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.codec.StringCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The Redis-side time of one call, the steadiest number on a shared machine: on a private {@code redis-server}, each
 * script is run {@code --calls} times after {@code CONFIG RESETSTAT}, and {@code INFO commandstats} gives the
 * microseconds the server spent per {@code EVALSHA}. The calls come from {@code --threads} callers at once, so that the
 * server goes from one call to the next as it does under load, and as {@code redis-benchmark} drives it: a server
 * that idles between calls runs each from cold caches, at up to twice the time. Measured, for a 7-level request:
 * <ul>
 *   <li>{@code return 1} sent with the very keys and arguments of a check and of a charge (the server's cost of
 *       reading that request, with no work), captured from the store's connection;</li>
 *   <li>the bare hierarchical scripts of {@link FloorBenchmark} (7 and 21 of 21 counters taken);</li>
 *   <li>the store's own check, check with estimates and charge, through {@code BudgetResolver} and
 *       {@code UsageTracker}, with the number of {@code EVALSHA} calls each made.</li>
 * </ul>
 * Rounds alternate the scripts, so that each round measures every script within a few seconds; the time on a shared
 * machine drifts more between rounds than within one, so each script's time is also taken as a ratio to its bare
 * script in the same round (the check's to the bare check's, the charge's and the check with estimates' to the bare
 * charge's). Medians over the rounds are reported, as a table and as JSON for {@link ResultsPage}.
 *
 * <p>Run, from the repository root, with nothing else running; on a machine of few cores, the server on a core of
 * its own keeps the client's threads from slowing it down:
 * <pre>{@code
 * taskset -c 0 java -cp benchmarks/target/benchmarks.jar io.tollgate.benchmarks.RedisSideTimes \
 *     --server-cpu 1 --out benchmarks/results/redis-side.json
 * }</pre>
 *
 * <p>Not thread-safe; a command-line tool.
 */
@Command(name = "redis-side-times", mixinStandardHelpOptions = true,
        description = "Measures the Redis-side time per call of the store's scripts against bare ones.")
public final class RedisSideTimes implements Callable<Integer> {

    static final String RETURN_ONE_CHECK = "return 1, check's arguments";
    static final String RETURN_ONE_CHARGE = "return 1, charge's arguments";
    static final String BARE_CHECK = "bare script, 7 of 21 taken";
    static final String BARE_CHARGE = "bare script, 21 of 21 taken";
    static final String CHECK = "check";
    static final String CHECK_WITH_ESTIMATES = "checkWithEstimates";
    static final String CHARGE = "charge";

    @Option(names = "--calls", defaultValue = "5000", description = "Calls per script and round.")
    int calls;

    @Option(names = "--rounds", defaultValue = "9", description = "Rounds; the median is reported.")
    int rounds;

    @Option(names = "--threads", defaultValue = "4", description = "Callers at once.")
    int threads;

    @Option(names = "--server-cpu", description = "Pins the private redis-server to these CPUs with taskset "
            + "(e.g. 1), for a run whose own JVM is pinned to the others (taskset -c 0 java ...).")
    String serverCpu;

    @Option(names = "--out", description = "JSON file to write for ResultsPage.")
    Path out;

    public static void main(String[] args) {
        System.exit(new CommandLine(new RedisSideTimes()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        if (calls < 1 || rounds < 1 || threads < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--calls, --rounds and --threads must "
                    + "be at least 1, got " + calls + ", " + rounds + " and " + threads);
        }
        Map<String, List<Timing>> timings = measure();
        StringBuilder table = new StringBuilder("| script | calls per op | us per call (median of " + rounds
                + ") | spread | x bare (median of rounds) |\n|---|---:|---:|---:|---:|\n");
        timings.forEach((name, runs) -> {
            Timing median = median(runs);
            table.append("| ").append(name).append(" | ").append(String.format(Locale.ROOT, "%.2f", median.callsPerOp))
                    .append(" | ").append(String.format(Locale.ROOT, "%.1f", median.micros)).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f-%.1f", min(runs), max(runs))).append(" | ")
                    .append(String.format(Locale.ROOT, "%.2f (%s)", medianRatio(timings, name), bareOf(name)))
                    .append(" |\n");
        });
        System.out.print(table);
        if (out != null) {
            write(timings, out);
            System.out.println("wrote " + out);
        }
        return 0;
    }

    private Map<String, List<Timing>> measure() {
        AtomicReference<List<byte[]>> lastScriptCall = new AtomicReference<>();
        CommandListener capture = new CommandListener() {
            @Override
            public void commandStarted(CommandStartedEvent event) {
                if (event.getCommand().getType() == CommandType.EVALSHA) {
                    lastScriptCall.set(arguments(event.getCommand().getArgs()));
                }
            }
        };
        // Always a private server: commandstats must count this tool's calls only.
        ExecutorService callers = Executors.newFixedThreadPool(threads);
        try (StoreFixture fixture = StoreFixture.open(RedisBackend.open(null, capture, serverCpu == null
                ? List.of() : List.of("taskset", "-c", serverCpu)), 7)) {
            RedisBackend redis = fixture.redis();
            RedisCommands<String, String> commands = redis.commands();
            String returnOne = commands.scriptLoad("return 1");
            fixture.check();
            List<byte[]> checkCall = lastScriptCall.get();
            fixture.charge("capture-" + UUID.randomUUID());
            List<byte[]> chargeCall = lastScriptCall.get();
            String prefix = UUID.randomUUID() + "-";

            Map<String, IntConsumer> scripts = new LinkedHashMap<>();
            scripts.put(RETURN_ONE_CHECK, i -> replay(commands, returnOne, checkCall));
            scripts.put(RETURN_ONE_CHARGE, i -> replay(commands, returnOne, chargeCall));
            scripts.put(BARE_CHECK, i -> redis.hierarchyCheckByScript());
            scripts.put(BARE_CHARGE, i -> redis.hierarchyChargeByScript());
            scripts.put(CHECK, i -> fixture.check());
            scripts.put(CHECK_WITH_ESTIMATES, i -> fixture.checkWithEstimates());
            int[] round = {0};
            scripts.put(CHARGE, i -> fixture.charge(prefix + round[0] + "-" + i));

            Map<String, List<Timing>> timings = new LinkedHashMap<>();
            scripts.keySet().forEach(name -> timings.put(name, new ArrayList<>()));
            for (round[0] = -1; round[0] < rounds; round[0]++) {
                for (Map.Entry<String, IntConsumer> script : scripts.entrySet()) {
                    Timing timing = time(commands, callers, script.getValue());
                    // Round -1 warms the JIT and the server up and is not counted.
                    if (round[0] >= 0) {
                        timings.get(script.getKey()).add(timing);
                    }
                }
            }
            return timings;
        } finally {
            callers.shutdownNow();
        }
    }

    private Timing time(RedisCommands<String, String> commands, ExecutorService callers, IntConsumer script) {
        commands.configResetstat();
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            running.add(callers.submit(() -> {
                for (int i = next.getAndIncrement(); i < calls; i = next.getAndIncrement()) {
                    script.accept(i);
                }
            }));
        }
        for (Future<?> caller : running) {
            try {
                caller.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("a call failed", e.getCause());
            }
        }
        return Timing.of(commands.info("commandstats"), calls);
    }

    /** Sends the captured keys and arguments to the script {@code sha} instead of the one they were sent to. */
    private static void replay(RedisCommands<String, String> commands, String sha, List<byte[]> call) {
        CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).add(sha);
        call.subList(1, call.size()).forEach(args::add);
        commands.dispatch(CommandType.EVALSHA, new IntegerOutput<>(StringCodec.UTF8), args);
    }

    /** The arguments of a command as the server receives them: each one's bytes, in order. */
    static List<byte[]> arguments(CommandArgs<?, ?> args) {
        ByteBuf encoded = Unpooled.buffer();
        try {
            args.encode(encoded);
            List<byte[]> arguments = new ArrayList<>();
            // RESP bulk strings: "$<length>\r\n<bytes>\r\n".
            while (encoded.isReadable()) {
                if (encoded.readByte() != '$') {
                    throw new IllegalStateException("not a bulk string at byte " + (encoded.readerIndex() - 1));
                }
                int length = 0;
                for (byte b = encoded.readByte(); b != '\r'; b = encoded.readByte()) {
                    length = length * 10 + (b - '0');
                }
                encoded.skipBytes(1);
                byte[] argument = new byte[length];
                encoded.readBytes(argument);
                encoded.skipBytes(2);
                arguments.add(argument);
            }
            return arguments;
        } finally {
            encoded.release();
        }
    }

    /** The bare script a script is compared with: the bare check for a check, else the bare charge. */
    static String bareOf(String script) {
        return script.equals(CHECK) || script.equals(RETURN_ONE_CHECK) || script.equals(BARE_CHECK)
                ? BARE_CHECK : BARE_CHARGE;
    }

    /** The median over the rounds of the script's time divided by its bare script's time in the same round. */
    static double medianRatio(Map<String, List<Timing>> timings, String script) {
        List<Timing> runs = timings.get(script);
        List<Timing> bare = timings.get(bareOf(script));
        double[] ratios = new double[runs.size()];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = runs.get(i).micros / bare.get(i).micros;
        }
        Arrays.sort(ratios);
        return ratios[ratios.length / 2];
    }

    private static Timing median(List<Timing> runs) {
        List<Timing> sorted = new ArrayList<>(runs);
        sorted.sort((a, b) -> Double.compare(a.micros, b.micros));
        return sorted.get(sorted.size() / 2);
    }

    private static double min(List<Timing> runs) {
        return runs.stream().mapToDouble(Timing::micros).min().orElseThrow();
    }

    private static double max(List<Timing> runs) {
        return runs.stream().mapToDouble(Timing::micros).max().orElseThrow();
    }

    private static void write(Map<String, List<Timing>> timings, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ArrayNode rows = json.createArrayNode();
        timings.forEach((name, runs) -> {
            Timing median = median(runs);
            ObjectNode row = rows.addObject().put("script", name).put("callsPerOp", median.callsPerOp)
                    .put("microsPerCall", median.micros).put("min", min(runs)).put("max", max(runs))
                    .put("bare", bareOf(name)).put("ratioToBare", medianRatio(timings, name));
            runs.forEach(run -> row.withArray("rounds").add(run.micros));
        });
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(rows),
                StandardCharsets.UTF_8);
    }

    /** Microseconds per {@code EVALSHA} and {@code EVALSHA} calls per operation, from one round. */
    record Timing(double micros, double callsPerOp) {

        /** Reads {@code cmdstat_evalsha:calls=N,usec=U,usec_per_call=P,...} out of {@code INFO commandstats}. */
        static Timing of(String commandStats, int operations) {
            for (String line : commandStats.split("\r?\n")) {
                if (line.startsWith("cmdstat_evalsha:")) {
                    Map<String, String> fields = new LinkedHashMap<>();
                    Arrays.stream(line.substring(line.indexOf(':') + 1).split(","))
                            .map(field -> field.split("=", 2))
                            .forEach(pair -> fields.put(pair[0], pair[1]));
                    double calls = Double.parseDouble(fields.get("calls"));
                    return new Timing(Double.parseDouble(fields.get("usec_per_call")), calls / operations);
                }
            }
            throw new IllegalStateException("no EVALSHA in INFO commandstats: " + commandStats);
        }
    }
}
