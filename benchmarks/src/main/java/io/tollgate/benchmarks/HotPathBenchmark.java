package io.tollgate.benchmarks;

import io.tollgate.ChargeOutcome;
import io.tollgate.Decision;
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

import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The hot path: one check (a request slot taken at every level, tokens and cost read), one check with estimates
 * (every counter taken, the estimates under a lease) and one charge (tokens, cost and the request on every counter,
 * with an idempotency key), for each store kind and for requests that touch 1, 3 and 7 levels (three counters per
 * level). Throughput in operations per microsecond, and sampled time per operation for the
 * percentiles. Compare with {@link FloorBenchmark} from the same run.
 *
 * <p>Run, from the repository root, once per thread count:
 * <pre>{@code
 * mvn -B -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar HotPathBenchmark -t 1 -rf json -rff hot-t1.json
 * java -jar benchmarks/target/benchmarks.jar HotPathBenchmark -t 4 -rf json -rff hot-t4.json
 * java -jar benchmarks/target/benchmarks.jar HotPathBenchmark -t 16 -p store=memory -p levels=3
 * }</pre>
 * The Redis runs use {@code TOLLGATE_REDIS_URI} when set, else a {@code redis-server} from the {@code PATH} that each
 * fork starts on a free port.
 *
 * <p>Not thread-safe as a class; JMH gives it one instance per trial and calls the benchmark methods from its
 * threads, which the store's check and charge paths allow.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HotPathBenchmark {

    /** Which store to measure: {@code memory} or {@code redis}. */
    @Param({StoreFixture.MEMORY, StoreFixture.REDIS})
    public String store;

    /** How many levels of the hierarchy each request touches. */
    @Param({"1", "3", "7"})
    public int levels;

    private StoreFixture fixture;

    @Setup(Level.Trial)
    public void open() {
        fixture = StoreFixture.open(store, levels);
    }

    @TearDown(Level.Trial)
    public void close() {
        fixture.close();
    }

    @Benchmark
    public Decision check() {
        return fixture.check();
    }

    @Benchmark
    public Decision checkWithEstimates() {
        return fixture.checkWithEstimates();
    }

    @Benchmark
    public ChargeOutcome charge(RequestIds ids) {
        return fixture.charge(ids.next());
    }

    /**
     * Distinct request ids per thread, so that every charge is applied rather than refused as a duplicate.
     *
     * <p>Not thread-safe: one instance per benchmark thread.
     */
    @State(Scope.Thread)
    public static class RequestIds {
        private final String prefix = UUID.randomUUID() + "-";
        private long next;

        public String next() {
            return prefix + next++;
        }
    }
}
