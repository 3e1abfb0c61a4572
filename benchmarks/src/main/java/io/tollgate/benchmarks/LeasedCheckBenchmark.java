package io.tollgate.benchmarks;

import io.tollgate.Decision;
import io.tollgate.redis.LeasedAdmission;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The 7-level check of {@link HotPathBenchmark} on Redis with leased admission on every limit: one hot key whose
 * checks are admitted from this replica's slices, with a script call only to refill them (and to read the token and
 * cost counters again every refill interval). At the end of each trial it prints the script calls Redis counted
 * ({@code INFO commandstats}) per 1,000 admitted checks. Compare with {@link FloorBenchmark} and
 * {@link HotPathBenchmark#check} from the same run:
 * <pre>{@code
 * java -jar benchmarks/target/benchmarks.jar 'LeasedCheckBenchmark|HotPathBenchmark.check$|FloorBenchmark' \
 *     -p levels=7 -p store=redis -t 16
 * }</pre>
 *
 * <p>Not thread-safe as a class; JMH gives it one instance per trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LeasedCheckBenchmark {

    /** System property naming a file to which each trial appends its script calls and admitted checks, as JSON. */
    public static final String CALLS_OUT = "tollgate.bench.scriptCallsOut";

    private final LongAdder admitted = new LongAdder();
    private StoreFixture fixture;
    private RedisBackend backend;
    private long callsBefore;

    @Setup(Level.Trial)
    public void open() {
        backend = RedisBackend.open(options -> options.leasedAdmission(LeasedAdmission.everyLimit()));
        fixture = StoreFixture.open(backend, 7);
        admitted.reset();
        callsBefore = backend.scriptCalls();
    }

    @TearDown(Level.Trial)
    public void close(BenchmarkParams params) throws IOException {
        long calls = backend.scriptCalls() - callsBefore;
        long checks = admitted.sum();
        System.out.printf("%nleased hot key, 7 levels: %,d admitted checks, %,d script calls, %.2f per 1,000%n",
                checks, calls, checks == 0 ? 0.0 : 1_000.0 * calls / checks);
        String out = System.getProperty(CALLS_OUT);
        if (out != null) {
            String line = String.format(Locale.ROOT, "{\"benchmark\": \"%s\", \"threads\": %d, \"admitted\": %d, "
                    + "\"scriptCalls\": %d}%n", params.getBenchmark().substring(params.getBenchmark()
                    .lastIndexOf('.', params.getBenchmark().lastIndexOf('.') - 1) + 1), params.getThreads(), checks,
                    calls);
            Files.writeString(Path.of(out), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
        fixture.close();
    }

    @Benchmark
    public Decision check() {
        Decision decision = fixture.check();
        if (decision.allowed()) {
            admitted.increment();
        }
        return decision;
    }
}
