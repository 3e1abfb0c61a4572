package io.tollgate.fleet;

import io.lettuce.core.api.StatefulRedisConnection;

import java.io.PrintStream;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What a Redis server ran, read from {@code INFO commandstats} on a connection of its own: {@link #read()} before and
 * after some work, then {@link Counts#since} gives the commands the work cost. The server counts every client's
 * commands, so the difference is exact only on a server nobody else uses.
 *
 * <p>Two things to know when reading the numbers. Commands a script runs ({@code TIME}, {@code GET}, ...) are counted
 * beside the {@code EVALSHA} that ran them, so "all commands" is the work Redis did, not the round trips; the script
 * calls are the round trips. And {@code INFO} does not count itself, only its earlier calls: each reading but the
 * last adds one {@code info} to the next difference, which {@link Counts#since} takes off.
 *
 * <p>Not thread-safe: readings come from one thread, the run's.
 */
final class RedisCommandStats implements AutoCloseable {

    /** The script commands: one round trip each, whatever the script runs inside. */
    static final List<String> SCRIPT_COMMANDS = List.of("evalsha", "eval", "evalsha_ro", "eval_ro");

    private final Supplier<StatefulRedisConnection<String, String>> connect;
    private StatefulRedisConnection<String, String> connection;

    /** Readings on a connection that {@code connect} opens at the first reading; closing closes it. */
    RedisCommandStats(Supplier<StatefulRedisConnection<String, String>> connect) {
        this.connect = connect;
    }

    /**
     * The counts before a run, or {@code null} when the server will not tell (a managed Redis may refuse
     * {@code INFO}): then the run goes on without counting calls, and says so on {@code out}.
     */
    Counts firstReading(PrintStream out) {
        try {
            return read();
        } catch (RuntimeException e) {
            out.println("Redis calls will not be counted: INFO commandstats failed (" + e.getMessage() + ")");
            return null;
        }
    }

    /** The server's counts now; the first call connects (and throws when it cannot). */
    Counts read() {
        if (connection == null) {
            connection = connect.get();
        }
        return Counts.parse(connection.sync().info("commandstats"));
    }

    @Override
    public void close() {
        if (connection != null) {
            connection.close();
        }
    }

    /**
     * Calls per command ({@code evalsha}, {@code client|setinfo}, ...), as a server reported them or as the
     * difference of two reports.
     *
     * <p>Immutable and thread-safe.
     */
    record Counts(Map<String, Long> calls) {

        Counts {
            calls = Map.copyOf(calls);
        }

        /** Reads the {@code cmdstat_<name>:calls=<n>,...} lines of {@code INFO commandstats}. */
        static Counts parse(String info) {
            Map<String, Long> calls = new HashMap<>();
            for (String line : info.split("\r?\n")) {
                if (!line.startsWith("cmdstat_")) {
                    continue;
                }
                int colon = line.indexOf(':');
                int start = line.indexOf("calls=", colon);
                if (colon < 0 || start < 0) {
                    continue;
                }
                int end = line.indexOf(',', start);
                String value = line.substring(start + "calls=".length(), end < 0 ? line.length() : end);
                calls.put(line.substring("cmdstat_".length(), colon), Long.parseLong(value.trim()));
            }
            return new Counts(calls);
        }

        /** What ran between {@code earlier} and this reading, without the earlier reading's own {@code INFO}. */
        Counts since(Counts earlier) {
            Map<String, Long> difference = new HashMap<>();
            calls.forEach((command, count) -> {
                long delta = count - earlier.calls(command) - (command.equals("info") ? 1 : 0);
                if (delta > 0) {
                    difference.put(command, delta);
                }
            });
            return new Counts(difference);
        }

        long calls(String command) {
            return calls.getOrDefault(command, 0L);
        }

        /** {@code EVALSHA} and {@code EVAL} calls, read-only variants included. */
        long scripts() {
            return SCRIPT_COMMANDS.stream().mapToLong(this::calls).sum();
        }

        /** Every command, those run inside scripts included. */
        long total() {
            return calls.values().stream().mapToLong(Long::longValue).sum();
        }

        /** The commands with the most calls first, such as {@code evalsha 1,200, time 1,200, get 800}. */
        String top(int n) {
            StringBuilder text = new StringBuilder();
            calls.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
                            .thenComparing(Map.Entry.comparingByKey()))
                    .limit(n)
                    .forEach(e -> text.append(text.isEmpty() ? "" : ", ")
                            .append(String.format(Locale.ROOT, "%s %,d", e.getKey(), e.getValue())));
            return text.toString();
        }
    }

    /**
     * The commands that ran for {@code decisions} store calls (checks or charges that reached Redis).
     *
     * <p>Immutable and thread-safe.
     */
    record PerDecision(Counts counts, long decisions) {

        /** Script calls per decision: the round trips. */
        double scripts() {
            return decisions == 0 ? Double.NaN : (double) counts.scripts() / decisions;
        }

        /** Commands per decision, those run inside the scripts included. */
        double commands() {
            return decisions == 0 ? Double.NaN : (double) counts.total() / decisions;
        }
    }
}
