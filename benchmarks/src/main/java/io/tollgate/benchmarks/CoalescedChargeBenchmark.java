package io.tollgate.benchmarks;

import io.tollgate.ChargeOutcome;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The 7-level charge of {@link HotPathBenchmark} on Redis with coalesced charges: the charges of one hash tag that find
 * a call of the tag in flight go together when it comes back, in one script call of at most {@code batch}, after at
 * most {@code windowMicros}. Its gain is under concurrency; compare
 * at 16 threads with {@link FloorBenchmark#redisScript} and {@link HotPathBenchmark#charge} from the same run:
 * <pre>{@code
 * java -jar benchmarks/target/benchmarks.jar 'CoalescedChargeBenchmark|HotPathBenchmark.charge|FloorBenchmark.redisScript' \
 *     -p levels=7 -p store=redis -t 16
 * }</pre>
 *
 * <p>Not thread-safe as a class; JMH gives it one instance per trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CoalescedChargeBenchmark {

    /** How long a charge may wait for others of its tag, in microseconds. */
    @Param({"500"})
    public int windowMicros;

    /** The most charges of one call. */
    @Param({"16"})
    public int batch;

    private StoreFixture fixture;

    @Setup(Level.Trial)
    public void open() {
        fixture = StoreFixture.open(RedisBackend.open(options -> options.coalesceCharges(
                Duration.ofNanos(TimeUnit.MICROSECONDS.toNanos(windowMicros)), batch)), 7);
    }

    @TearDown(Level.Trial)
    public void close() {
        fixture.close();
    }

    @Benchmark
    public ChargeOutcome charge(HotPathBenchmark.RequestIds ids) {
        return fixture.charge(ids.next());
    }
}
