package io.tollgate.benchmarks;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The floors that {@link HotPathBenchmark} is measured against, in the same run and JVM:
 * <ul>
 *   <li>{@link #memoryCounter}: a bare {@link ConcurrentHashMap} lookup and {@link LongAdder} increment, the least an
 *       in-memory counter can cost;</li>
 *   <li>{@link #redisPing}: a Lettuce {@code PING} on the Redis store's own connection, one round trip;</li>
 *   <li>{@link #redisScript}: a one-key {@code INCR} script sent by {@code EVALSHA} on that same connection, one
 *       round trip through the script engine;</li>
 *   <li>{@link #redisBareCheck}: a bare hierarchical script on that connection, the least a 7-level atomic check
 *       must do ({@code TIME}, one {@code MGET} of 21 counters, the fit test, 7 {@code INCRBY});</li>
 *   <li>{@link #redisBareCharge}: the same script taking all 21 counters, the least a 7-level charge must do.</li>
 * </ul>
 *
 * <p>Run, from the repository root, with the same thread counts as the hot path:
 * <pre>{@code
 * java -jar benchmarks/target/benchmarks.jar FloorBenchmark -t 1 -rf json -rff floor-t1.json
 * java -jar benchmarks/target/benchmarks.jar FloorBenchmark -t 4 -rf json -rff floor-t4.json
 * java -jar benchmarks/target/benchmarks.jar FloorBenchmark -t 16 -rf json -rff floor-t16.json
 * }</pre>
 *
 * <p>Not thread-safe as a class; the states are shared by JMH's threads, which the map, the adder and the Lettuce
 * connection allow.
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FloorBenchmark {

    @Benchmark
    public void memoryCounter(Counters counters) {
        counters.map.computeIfAbsent(Counters.KEY, key -> new LongAdder()).increment();
    }

    @Benchmark
    public String redisPing(RedisFloor redis) {
        return redis.fixture.redis().ping();
    }

    @Benchmark
    public Long redisScript(RedisFloor redis) {
        return redis.fixture.redis().incrementByScript();
    }

    @Benchmark
    public Long redisBareCheck(RedisFloor redis) {
        return redis.fixture.redis().hierarchyCheckByScript();
    }

    @Benchmark
    public Long redisBareCharge(RedisFloor redis) {
        return redis.fixture.redis().hierarchyChargeByScript();
    }

    /**
     * One shared counter map.
     *
     * <p>Thread-safe.
     */
    @State(Scope.Benchmark)
    public static class Counters {
        static final String KEY = "bench-vk/REQUESTS/1h";
        final ConcurrentHashMap<String, LongAdder> map = new ConcurrentHashMap<>();
    }

    /**
     * A Redis store fixture, whose connection the floors borrow.
     *
     * <p>Thread-safe once set up.
     */
    @State(Scope.Benchmark)
    public static class RedisFloor {
        StoreFixture fixture;

        @Setup(Level.Trial)
        public void open() {
            fixture = StoreFixture.open(StoreFixture.REDIS, 1);
        }

        @TearDown(Level.Trial)
        public void close() {
            fixture.close();
        }
    }
}
