package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.spi.CounterOp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Latency and throughput of a 7-level check (reserve) and charge against two floors on the same connection: a PING
 * and an {@code EVALSHA} of {@code return 1}. Not a test: run it by hand, on an otherwise idle machine.
 *
 * <pre>
 * mvn -B -o -pl redis-store test-compile
 * mvn -B -o -pl redis-store exec:java -Dexec.mainClass=io.tollgate.redis.RedisLatencyHarness \
 *     -Dexec.classpathScope=test [-Dexec.args="measureSeconds warmupSeconds [operation name part]"]
 * </pre>
 *
 * Each operation runs synchronously in a loop on 1 and on 16 threads; the report gives p50, p99 and throughput, and
 * their ratios to the {@code return 1} floor.
 */
public final class RedisLatencyHarness {

    private static final int[] THREADS = {1, 16};
    private static final int MAX_SAMPLES_PER_THREAD = 2_000_000;

    private RedisLatencyHarness() {
    }

    public static void main(String[] args) throws Exception {
        long measureSeconds = args.length > 0 ? Long.parseLong(args[0]) : 4;
        long warmupSeconds = args.length > 1 ? Long.parseLong(args[1]) : 2;
        String only = args.length > 2 ? args[2] : "";
        try (RedisFixture server = RedisFixture.start()) {
            RedisClient client = RedisClient.create(server.uri());
            StatefulRedisConnection<String, String> connection = client.connect(StringCodec.UTF8);
            RedisAsyncCommands<String, String> redis = connection.async();
            String trivial = redis.scriptLoad("return 1").get();
            String[] noKeys = new String[0];
            try (RedisGovernanceStore store = RedisGovernanceStore.builder(connection).build()) {
                List<CounterOp> check = new ArrayList<>();
                List<CounterOp> charge = new ArrayList<>();
                for (Limit limit : sevenLevels()) {
                    check.add(CounterOp.take(limit, 1));
                    charge.add(CounterOp.add(limit, 17));
                }
                AtomicLong requestIds = new AtomicLong();
                Map<String, Op> ops = new LinkedHashMap<>();
                ops.put("PING", () -> redis.ping().get());
                ops.put("EVALSHA return 1", () -> redis.evalsha(trivial, ScriptOutputType.INTEGER, noKeys).get());
                ops.put("check, 7 levels", () -> store.reserve(check).toCompletableFuture().get());
                ops.put("charge, 7 levels", () -> store.charge("req-" + requestIds.incrementAndGet(), charge)
                        .toCompletableFuture().get());

                System.out.printf("Redis %s, %s %s, %d cores%n", redis.info("server").get().lines()
                                .filter(l -> l.startsWith("redis_version:")).findFirst().orElse("?"),
                        System.getProperty("java.vm.name"), System.getProperty("java.version"),
                        Runtime.getRuntime().availableProcessors());
                for (int threads : THREADS) {
                    Result floor = null;
                    System.out.printf("%n%d thread(s)%n%-20s %10s %10s %12s %10s %10s %14s%n", threads, "operation",
                            "p50 us", "p99 us", "ops/s", "p50/floor", "tput/floor", "in Redis us");
                    for (Map.Entry<String, Op> op : ops.entrySet()) {
                        if (!op.getKey().contains(only) && !op.getKey().startsWith("EVALSHA")) {
                            continue;
                        }
                        run(op.getValue(), threads, warmupSeconds);
                        redis.configResetstat().get();
                        Result result = run(op.getValue(), threads, measureSeconds);
                        String inRedis = serverMicrosPerCall(redis.info("commandstats").get(),
                                op.getKey().equals("PING") ? "ping" : "evalsha");
                        if (op.getKey().startsWith("EVALSHA")) {
                            floor = result;
                        }
                        System.out.printf("%-20s %10.1f %10.1f %12.0f %10s %10s %14s%n", op.getKey(),
                                result.p50Micros(), result.p99Micros(), result.throughput(),
                                floor == null ? "" : String.format("%.2f", result.p50Micros() / floor.p50Micros()),
                                floor == null ? "" : String.format("%.2f", result.throughput() / floor.throughput()),
                                inRedis);
                    }
                }
            } finally {
                connection.close();
                RedisFixture.shutdown(client);
            }
        }
    }

    /** Redis's own time per call of a command, from INFO commandstats. */
    private static String serverMicrosPerCall(String commandstats, String command) {
        for (String line : commandstats.split("\r?\n")) {
            if (line.startsWith("cmdstat_" + command + ":")) {
                String perCall = line.substring(line.indexOf("usec_per_call=") + 14);
                return perCall.substring(0, perCall.indexOf(','));
            }
        }
        return "?";
    }

    private static List<Limit> sevenLevels() {
        WindowSpec minute = WindowSpec.rolling(ResetPeriod.parse("1m"));
        WindowSpec day = WindowSpec.rolling(ResetPeriod.parse("1d"));
        long lots = Long.MAX_VALUE / 2;
        return List.of(
                new Limit(Holder.virtualKey("vk-bench"), Metric.REQUESTS, lots, minute),
                new Limit(Holder.providerConfig("vk-bench", "openai"), Metric.REQUESTS, lots, minute),
                new Limit(Holder.team("team-bench"), Metric.REQUESTS, lots, minute),
                new Limit(Holder.customer("customer-bench"), Metric.REQUESTS, lots, day),
                new Limit(Holder.user("user-bench"), Metric.REQUESTS, lots, minute),
                new Limit(Holder.modelConfig("gpt-4o@openai"), Metric.REQUESTS, lots, minute),
                new Limit(Holder.modelConfig("*"), Metric.REQUESTS, lots, day));
    }

    private static Result run(Op op, int threads, long seconds) throws InterruptedException {
        long[][] samples = new long[threads][];
        int[] counts = new int[threads];
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        long[] window = new long[2];
        for (int t = 0; t < threads; t++) {
            int index = t;
            samples[t] = new long[MAX_SAMPLES_PER_THREAD];
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                    long[] mine = samples[index];
                    int n = 0;
                    for (long now = System.nanoTime(); now < end && n < mine.length; ) {
                        op.run();
                        long after = System.nanoTime();
                        mine[n++] = after - now;
                        now = after;
                    }
                    counts[index] = n;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "harness-" + t);
            workers.add(worker);
            worker.start();
        }
        window[0] = System.nanoTime();
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        window[1] = System.nanoTime();
        int total = Arrays.stream(counts).sum();
        long[] all = new long[total];
        int at = 0;
        for (int t = 0; t < threads; t++) {
            System.arraycopy(samples[t], 0, all, at, counts[t]);
            at += counts[t];
        }
        Arrays.sort(all);
        double elapsedSeconds = (window[1] - window[0]) / 1e9;
        return new Result(all[total / 2] / 1e3, all[(int) (total * 0.99)] / 1e3, total / elapsedSeconds);
    }

    @FunctionalInterface
    private interface Op {
        void run() throws Exception;
    }

    private record Result(double p50Micros, double p99Micros, double throughput) {
    }
}
