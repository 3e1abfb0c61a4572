package io.tollgate.benchmarks;

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

import java.util.concurrent.TimeUnit;

/**
 * The floors of {@link CoalescedChargeBenchmark}, with the same window and batch size, on a store's connection (see
 * {@link BareChargeBatches}): {@link #bareCharges}, the least a client and script can do for coalesced 7-level
 * charges, and {@link #answersOnly}, the hand-off from blocked callers to one call and back with no work in Redis.
 * Run beside it and {@link FloorBenchmark#redisScript} at 16 threads:
 * <pre>{@code
 * java -jar benchmarks/target/benchmarks.jar 'CoalescedChargeBenchmark|CoalescedFloorBenchmark|FloorBenchmark.redisScript' \
 *     -p levels=7 -p store=redis -t 16
 * }</pre>
 *
 * <p>Not thread-safe as a class; JMH gives it one instance per trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CoalescedFloorBenchmark {

    /** How long a charge may wait for others, in microseconds. */
    @Param({"500"})
    public int windowMicros;

    /** The most charges of one call. */
    @Param({"16"})
    public int batch;

    private RedisBackend redis;
    private BareChargeBatches bare;
    private BareChargeBatches answers;

    @Setup(Level.Trial)
    public void open() {
        redis = RedisBackend.open();
        long window = TimeUnit.MICROSECONDS.toNanos(windowMicros);
        bare = new BareChargeBatches(redis.connection(), true, window, batch);
        answers = new BareChargeBatches(redis.connection(), false, window, batch);
    }

    @TearDown(Level.Trial)
    public void close() {
        bare.close();
        answers.close();
        redis.close();
    }

    @Benchmark
    public long bareCharges(HotPathBenchmark.RequestIds ids) {
        return bare.charge(ids.next());
    }

    @Benchmark
    public long answersOnly(HotPathBenchmark.RequestIds ids) {
        return answers.charge(ids.next());
    }
}
