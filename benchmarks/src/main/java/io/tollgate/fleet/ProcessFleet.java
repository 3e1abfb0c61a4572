package io.tollgate.fleet;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tollgate.Limit;
import io.tollgate.benchmarks.RedisBackend;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.spi.CounterState;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A hot-key fleet run with every replica a separate JVM ({@link ReplicaProcess}, started from this JVM's java binary
 * and class path), each with its own Redis client and store, all sending the {@link HotKey} check at 5 times its
 * maximum. With {@code killOne}, one replica is SIGKILLed {@value #WARM_UP_WINDOWS} full windows after the start, a
 * tenth of the way into a window: while the window is still filling (at 5 times the demand it fills in its first
 * fifth), so the replica dies holding slices; the others run on to the end.
 *
 * <p>The coordinator reads Redis {@code TIME} to place the run and the kill in the limit's windows, and the replicas'
 * {@link WindowCounts} files to sum what each window admitted; those files outlive a killed replica. The
 * {@link ProcessReport} says per window what was admitted against the maximum.
 *
 * <p>Not thread-safe: {@link #run} once, from one thread.
 */
final class ProcessFleet {

    static final int WARM_UP_WINDOWS = 3;
    /** How long the replicas may take to start and make their first check. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /** Each replica is a small gateway process: a small heap and a collector without threads of its own. */
    static final List<String> REPLICA_JVM_OPTIONS = List.of("-Xms64m", "-Xmx256m", "-XX:+UseSerialGC");

    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int LOG_LINES_SHOWN = 15;

    /**
     * What a run does; {@code warmUp}: how long the replicas send the warm-up tenant's check before the run;
     * {@code privateRedis} says that nobody else uses the Redis at {@code redisUri}, so that its command counts are
     * the run's alone.
     */
    record Settings(int processes, int threads, Duration duration, Duration warmUp, HotKey hotKey, String redisUri,
                    boolean privateRedis, boolean leases, boolean killOne) {

        /** The shortest run with a kill: a partial window, the warm-up, the kill window, one full window, a partial. */
        Duration shortestWithKill() {
            return hotKey.window().multipliedBy(WARM_UP_WINDOWS + 3);
        }
    }

    /**
     * The replica killed: its index, Redis time just before and just after the kill, and what it last published of
     * the slices it held, {@code publishedAgoMillis} before the kill.
     */
    record Kill(int replica, long beforeMillis, long afterMillis, long slicesHeld, long publishedAgoMillis) {
    }

    private final Settings settings;
    private final PrintStream out;
    private final String runId = UUID.randomUUID().toString().substring(0, 8);
    private final Limit hotLimit;
    /** Per window start, the hot counter as Redis counted it near the window's end. */
    private final Map<Long, Long> counted = new HashMap<>();
    /** Reads of the hot counter during the run, and the script calls each costs. */
    private long reads;
    private long scriptsPerRead;
    private RedisGovernanceStore reader;
    private ProcessReport report;

    ProcessFleet(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
        this.hotLimit = HotKey.hotLimit(settings.hotKey().config());
    }

    /** What the run saw; {@code null} until {@link #run} reported. */
    ProcessReport report() {
        return report;
    }

    int run() throws Exception {
        HotKey hotKey = settings.hotKey();
        long windowMillis = hotKey.windowMillis();
        int workers = settings.processes() * settings.threads();
        String keyPrefix = RedisStores.keyPrefix(runId);
        Path dir = Files.createTempDirectory("tollgate-fleet-" + runId + "-");
        boolean keepDir = false;
        List<Replica> replicas = new ArrayList<>();
        RedisClient client = RedisClient.create(settings.redisUri());
        try (StatefulRedisConnection<String, String> connection = client.connect();
             RedisCommandStats commandStats = new RedisCommandStats(client::connect);
             // without leases: it only reads the hot counter near the end of each window
             RedisGovernanceStore reader = RedisGovernanceStore.builder(client)
                     .options(RedisStores.options(keyPrefix, settings.duration(), false)).build()) {
            RedisCommands<String, String> redis = connection.sync();
            this.reader = reader;
            long firstWindow = Math.floorDiv(redisMillis(redis), windowMillis);
            int slots = (int) (START_TIMEOUT.plus(settings.warmUp()).plus(settings.duration()).plus(STOP_TIMEOUT)
                    .toMillis() / windowMillis) + 16;
            out.printf(Locale.ROOT, "fleet: %d replica processes x %d threads, %,.1f checks/s each (%,.0f in all, %d "
                            + "x the max), for %s after a %s warm-up on a tenant of its own, on Redis at %s (key "
                            + "prefix %s, %s)%n",
                    settings.processes(), settings.threads(), hotKey.ratePerThread(workers),
                    hotKey.ratePerThread(workers) * workers, HotKey.DEMAND_FACTOR,
                    FleetMain.format(settings.duration()), FleetMain.format(settings.warmUp()),
                    RedisStores.redacted(settings.redisUri()), keyPrefix,
                    settings.leases() ? "leased admission on every limit" : "no leases");
            out.printf(Locale.ROOT, "hot key: %s requests max %,d per %s, in team %s (max %,d per %s) of customer %s "
                            + "(max %,d per %s); each check without an estimate%n",
                    HotKey.KEY_ID, hotKey.max(), FleetMain.format(hotKey.window()), HotKey.TEAM_ID, 2 * hotKey.max(),
                    FleetMain.format(hotKey.window()), HotKey.CUSTOMER_ID, 20 * hotKey.max(),
                    FleetMain.format(hotKey.window().multipliedBy(10)));
            for (int i = 0; i < settings.processes(); i++) {
                Path file = dir.resolve("replica-" + i + ".counts");
                WindowCounts counts = WindowCounts.create(file, firstWindow, windowMillis, slots);
                replicas.add(Replica.start(i, command(i, file, keyPrefix, hotKey.ratePerThread(workers)), counts,
                        dir.resolve("replica-" + i + ".log")));
            }
            awaitReady(replicas);
            RedisCommandStats.Counts before = commandStats.firstReading(out);
            if (before != null) {
                // what one read of the hot counter costs, learnt while the replicas wait, to count the reads apart
                readHotCounter(redisMillis(redis));
                RedisCommandStats.Counts read = commandStats.read();
                scriptsPerRead = read.since(before).scripts();
                before = read;
            }
            reads = 0;
            counted.clear();
            long decisionsBefore = sum(replicas, WindowCounts.DECISIONS);
            long admittedBefore = sum(replicas, WindowCounts.ADMITTED);
            for (Replica replica : replicas) {
                replica.send("go");
            }
            long started = System.nanoTime();
            long goAt = redisMillis(redis);
            long deadline = started + settings.duration().toNanos();
            long killAt = Long.MAX_VALUE;
            if (settings.killOne()) {
                long firstFull = Math.floorDiv(goAt + windowMillis - 1, windowMillis) * windowMillis;
                long killRedisMillis = firstFull + WARM_UP_WINDOWS * windowMillis
                        + windowMillis / (2 * HotKey.DEMAND_FACTOR);
                killAt = started + TimeUnit.MILLISECONDS.toNanos(killRedisMillis - goAt);
            }
            Kill kill = progress(redis, replicas, started, goAt, deadline, killAt);
            long stopAt = redisMillis(redis);
            for (Replica replica : replicas) {
                if (!replica.killed) {
                    replica.stop();
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            for (Replica replica : replicas) {
                replica.await(STOP_TIMEOUT);
            }
            ProcessReport.RedisCalls calls = calls(commandStats, before, sum(replicas, WindowCounts.DECISIONS)
                    - decisionsBefore, sum(replicas, WindowCounts.ADMITTED) - admittedBefore);
            deleteKeys(redis, keyPrefix);
            report = new ProcessReport(settings, replicas.stream().map(r -> r.counts).toList(),
                    replicas.stream().map(r -> r.problem).toList(), goAt, stopAt, seconds, kill, counted,
                    readGuardMillis(), calls, RedisStores.LEASES.maxShare());
            int code = report.print(out);
            for (Replica replica : replicas) {
                if (replica.problem != null) {
                    keepDir = true;
                    replica.showLog(out);
                }
            }
            return code;
        } finally {
            for (Replica replica : replicas) {
                replica.process.destroyForcibly();
            }
            client.shutdown();
            if (keepDir) {
                out.println("replica logs and counts kept in " + dir);
            } else {
                deleteDir(dir);
            }
        }
    }

    private List<String> command(int index, Path counts, String keyPrefix, double rate) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(REPLICA_JVM_OPTIONS);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ReplicaProcess.class.getName(),
                "--redis", settings.redisUri(), "--key-prefix", keyPrefix, "--counts", counts.toString(),
                "--index", Integer.toString(index), "--threads", Integer.toString(settings.threads()),
                "--rate", Double.toString(rate), "--max", Long.toString(settings.hotKey().max()),
                "--window-ms", Long.toString(settings.hotKey().windowMillis()),
                "--duration-ms", Long.toString(settings.duration().toMillis()),
                "--warm-up-ms", Long.toString(settings.warmUp().toMillis())));
        if (settings.leases()) {
            command.add("--leases");
        }
        return command;
    }

    private void awaitReady(List<Replica> replicas) throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.plus(settings.warmUp()).toNanos();
        for (Replica replica : replicas) {
            while (replica.counts.get(WindowCounts.STATE) < WindowCounts.READY) {
                if (!replica.process.isAlive()) {
                    replica.showLog(out);
                    throw new IllegalStateException("replica " + replica.index + " exited with code "
                            + replica.process.exitValue() + " before it was ready");
                }
                if (System.nanoTime() > deadline) {
                    replica.showLog(out);
                    throw new IllegalStateException("replica " + replica.index + " was not ready within "
                            + START_TIMEOUT.plus(settings.warmUp()).toSeconds() + " s");
                }
                TimeUnit.MILLISECONDS.sleep(10);
            }
        }
    }

    /**
     * Prints a line per second until the deadline, reads the hot counter near the end of each window and kills a
     * replica at {@code killAt}; returns the kill or null. {@code goAt} is Redis time at {@code started}.
     */
    private Kill progress(RedisCommands<String, String> redis, List<Replica> replicas, long started, long goAt,
                          long deadline, long killAt) throws InterruptedException {
        long windowMillis = settings.hotKey().windowMillis();
        Kill kill = null;
        long decisionsBefore = sum(replicas, WindowCounts.DECISIONS);
        long admittedBefore = sum(replicas, WindowCounts.ADMITTED);
        long last = started;
        long nextPrint = started + TimeUnit.SECONDS.toNanos(1);
        long windowStart = Math.floorDiv(goAt, windowMillis) * windowMillis;
        long nextRead = started + TimeUnit.MILLISECONDS.toNanos(windowStart + windowMillis - readGuardMillis() - goAt);
        double maxPerSecond = settings.hotKey().max() * 1_000.0 / windowMillis;
        while (true) {
            long now = System.nanoTime();
            long wake = Math.min(Math.min(nextPrint, deadline), Math.min(nextRead, kill == null ? killAt
                    : Long.MAX_VALUE));
            if (wake > now) {
                TimeUnit.NANOSECONDS.sleep(wake - now);
            }
            now = System.nanoTime();
            if (kill == null && now >= killAt) {
                kill = kill(redis, replicas.get(replicas.size() - 1));
                continue;
            }
            if (now >= nextRead && now < deadline) {
                readHotCounter(goAt + TimeUnit.NANOSECONDS.toMillis(now - started));
                nextRead += TimeUnit.MILLISECONDS.toNanos(windowMillis);
                continue;
            }
            if (now < nextPrint && now < deadline) {
                continue;
            }
            double interval = (now - last) / 1e9;
            last = now;
            long decisions = sum(replicas, WindowCounts.DECISIONS);
            long admitted = sum(replicas, WindowCounts.ADMITTED);
            long alive = replicas.stream().filter(r -> r.process.isAlive()).count();
            long held = replicas.stream().filter(r -> !r.killed).mapToLong(r -> r.counts.get(WindowCounts.SLICES_HELD))
                    .sum();
            out.printf(Locale.ROOT, "[%5.1fs] checks %,7.0f/s  admitted %,7.0f/s (%5.1f %% of the max's rate)  "
                            + "replicas alive %d, holding %,d unused  errors %d%n",
                    (now - started) / 1e9, (decisions - decisionsBefore) / interval,
                    (admitted - admittedBefore) / interval,
                    100 * (admitted - admittedBefore) / interval / maxPerSecond, alive, held,
                    sum(replicas, WindowCounts.ERRORS));
            decisionsBefore = decisions;
            admittedBefore = admitted;
            if (now >= deadline) {
                return kill;
            }
            nextPrint += TimeUnit.SECONDS.toNanos(1);
        }
    }

    /**
     * How long before a window's end the hot counter is read: late enough that the window is decided (at 5 times the
     * max it fills in its first fifth), early enough that a read the busy machine delays still lands in it.
     */
    private long readGuardMillis() {
        return settings.hotKey().windowMillis() / 10;
    }

    /**
     * Reads the hot counter of the current window as Redis counts it: admitted plus slices held unused.
     * {@code expectedAt} is about Redis time now.
     */
    private void readHotCounter(long expectedAt) {
        try {
            reads++;
            CounterState state = reader.read(List.of(hotLimit)).toCompletableFuture().get(2, TimeUnit.SECONDS).get(0);
            long expected = Math.floorDiv(expectedAt, settings.hotKey().windowMillis())
                    * settings.hotKey().windowMillis();
            if (state.window().startMillis() != expected) {
                // too late for its window, too early to say what the next one counted
                out.printf(Locale.ROOT, "fleet: the read of the hot counter near %s answered the window of %s; not "
                                + "counted%n", ProcessReport.time(expectedAt),
                        ProcessReport.time(state.window().startMillis()));
                return;
            }
            counted.put(state.window().startMillis(), state.used());
        } catch (Exception e) {
            out.println("fleet: reading the hot counter failed: " + e);
        }
    }

    private Kill kill(RedisCommands<String, String> redis, Replica victim) throws InterruptedException {
        long before = redisMillis(redis);
        long localBefore = System.currentTimeMillis();
        // SIGKILL on Linux: no shutdown hook, no store close, no slice given back
        victim.process.destroyForcibly();
        victim.killed = true;
        if (!victim.process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("replica " + victim.index + " did not die within 10 s of SIGKILL");
        }
        long after = redisMillis(redis);
        // a publication while the signal was on its way is the last before the death: 0 ms
        Kill kill = new Kill(victim.index, before, after, victim.counts.get(WindowCounts.SLICES_HELD),
                Math.max(0, localBefore - victim.counts.get(WindowCounts.PUBLISHED_AT)));
        out.printf(Locale.ROOT, "killed replica %d (SIGKILL) at Redis time %s; it last published %,d requests held "
                        + "unused, %d ms before%n", victim.index, ProcessReport.time(before), kill.slicesHeld(),
                kill.publishedAgoMillis());
        return kill;
    }

    private ProcessReport.RedisCalls calls(RedisCommandStats stats, RedisCommandStats.Counts before, long decisions,
                                          long admitted) {
        if (before == null) {
            return null;
        }
        try {
            return new ProcessReport.RedisCalls(stats.read().since(before), reads * scriptsPerRead, decisions,
                    admitted, null);
        } catch (RuntimeException e) {
            return new ProcessReport.RedisCalls(null, reads * scriptsPerRead, decisions, admitted, e.toString());
        }
    }

    private void deleteKeys(RedisCommands<String, String> redis, String keyPrefix) {
        try {
            RedisBackend.deleteKeys(redis, keyPrefix);
        } catch (RuntimeException e) {
            out.println("fleet: could not delete the run's keys under " + keyPrefix + ": " + e);
        }
    }

    /** Redis {@code TIME} in epoch milliseconds: the clock the store's windows follow. */
    static long redisMillis(RedisCommands<String, String> redis) {
        List<String> time = redis.time();
        return Long.parseLong(time.get(0)) * 1_000 + Long.parseLong(time.get(1)) / 1_000;
    }

    private static long sum(List<Replica> replicas, int slot) {
        long sum = 0;
        for (Replica replica : replicas) {
            sum += replica.counts.get(slot);
        }
        return sum;
    }

    private static void deleteDir(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            System.err.println("fleet: could not delete " + dir + ": " + e);
        }
    }

    /**
     * One replica process: its counts file, its log (standard output and error) and its standard input.
     *
     * <p>Not thread-safe: the coordinator's thread only.
     */
    private static final class Replica {
        final int index;
        final Process process;
        final WindowCounts counts;
        final Path log;
        final Writer input;
        boolean killed;
        /** What went wrong with a replica that was not killed, or null. */
        String problem;

        private Replica(int index, Process process, WindowCounts counts, Path log) {
            this.index = index;
            this.process = process;
            this.counts = counts;
            this.log = log;
            this.input = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        }

        static Replica start(int index, List<String> command, WindowCounts counts, Path log) {
            try {
                Process process = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                return new Replica(index, process, counts, log);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start replica " + index + ": " + e.getMessage(), e);
            }
        }

        void send(String line) {
            try {
                input.write(line + "\n");
                input.flush();
            } catch (IOException e) {
                problem = "could not be told " + line + ": " + e.getMessage();
            }
        }

        void stop() {
            send("stop");
            try {
                input.close();
            } catch (IOException e) {
                // it was told already, or it is gone: its exit says which
            }
        }

        void await(Duration timeout) throws InterruptedException {
            if (killed) {
                return;
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                problem = "did not exit within " + timeout.toSeconds() + " s of stop";
            } else if (process.exitValue() != 0) {
                problem = "exited with code " + process.exitValue();
            } else if (counts.get(WindowCounts.STATE) != WindowCounts.DONE) {
                problem = "exited without finishing";
            }
        }

        void showLog(PrintStream out) {
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                out.println("replica " + index + (problem == null ? "" : " " + problem) + "; its log ends:");
                lines.subList(Math.max(0, lines.size() - LOG_LINES_SHOWN), lines.size())
                        .forEach(line -> out.println("  " + line));
            } catch (IOException e) {
                out.println("replica " + index + ": its log cannot be read: " + e);
            }
        }
    }
}
