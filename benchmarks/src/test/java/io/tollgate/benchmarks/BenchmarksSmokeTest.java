package io.tollgate.benchmarks;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import picocli.CommandLine;

import java.nio.file.Path;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs every benchmark once, very briefly, in this JVM, against the in-memory store and a real Redis, so that the
 * benchmarks cannot rot: each must produce a result.
 */
class BenchmarksSmokeTest {

    private static RedisLauncher redis;

    @BeforeAll
    static void startRedis() {
        System.setProperty("java.awt.headless", "true");
        redis = RedisLauncher.start();
        System.setProperty(RedisLauncher.URI_PROPERTY, redis.uri());
    }

    @AfterAll
    static void stopRedis() {
        System.clearProperty(RedisLauncher.URI_PROPERTY);
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void everyBenchmarkProducesAResultAndThePageIsWritten(@TempDir Path dir) throws RunnerException {
        Path json = dir.resolve("jmh.json");
        Options options = new OptionsBuilder()
                .include(HotPathBenchmark.class.getName() + "\\.")
                .include(FloorBenchmark.class.getName() + "\\.")
                .addProfiler(GCProfiler.class)
                .forks(0)
                .threads(2)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT)
                .resultFormat(ResultFormatType.JSON)
                .result(json.toString())
                .build();

        Collection<RunResult> results = new Runner(options).run();

        Set<String> ran = new TreeSet<>();
        for (RunResult result : results) {
            String label = result.getParams().getBenchmark() + " " + result.getParams().getMode().shortLabel()
                    + paramsOf(result);
            assertThat(result.getPrimaryResult().getSampleCount()).as(label).isPositive();
            assertThat(result.getPrimaryResult().getScore()).as(label).isPositive().isFinite();
            if (result.getParams().getMode().shortLabel().equals("thrpt")) {
                assertThat(result.getSecondaryResults()).as(label).containsKey(ResultsPage.ALLOCATION);
            }
            ran.add(label);
        }
        Set<String> expected = new TreeSet<>();
        for (String mode : new String[] {"thrpt", "sample"}) {
            for (String method : ResultsPage.OPERATIONS) {
                for (String store : new String[] {StoreFixture.MEMORY, StoreFixture.REDIS}) {
                    for (String levels : new String[] {"1", "3", "7"}) {
                        expected.add(HotPathBenchmark.class.getName() + "." + method + " " + mode + " levels=" + levels
                                + " store=" + store);
                    }
                }
            }
            for (String method : new String[] {"memoryCounter", "redisPing", "redisScript", "redisBareCheck",
                    "redisBareCharge"}) {
                expected.add(FloorBenchmark.class.getName() + "." + method + " " + mode);
            }
        }
        assertThat(ran).containsExactlyInAnyOrderElementsOf(expected);

        Path redisSide = dir.resolve("redis-side.json");
        assertThat(new CommandLine(new RedisSideTimes()).execute("--calls", "20", "--rounds", "1", "--out",
                redisSide.toString())).isZero();

        Path page = dir.resolve("RESULTS.md");
        int code = new CommandLine(new ResultsPage()).execute("--out", page.toString(), "--charts",
                dir.resolve("results").toString(), "--redis-side", redisSide.toString(), json.toString());
        assertThat(code).isZero();
        assertThat(page).content()
                .contains("## Environment", "| Redis | ", "| Threads | 2 ", "## Floors", "## In-memory store",
                        "## Redis store", "× memoryCounter (p50)", "× redisScript (p50)", "× bare (p50)",
                        "## Headline: 7 levels on Redis", "| checkWithEstimates | 7 |", "alloc B/op")
                .contains("## Redis-side time per call", "| " + RedisSideTimes.CHECK + " | 1.00 |",
                        "| " + RedisSideTimes.BARE_CHECK + " | 1.00 |")
                .contains("](results/ratios-memory.png)", "](results/ratios-redis.png)");
        assertThat(dir.resolve("results/ratios-memory.png")).isNotEmptyFile();
        assertThat(dir.resolve("results/ratios-redis.png")).isNotEmptyFile();
    }

    private static String paramsOf(RunResult result) {
        StringBuilder params = new StringBuilder();
        for (String key : new TreeSet<>(result.getParams().getParamsKeys())) {
            params.append(' ').append(key).append('=').append(result.getParams().getParam(key));
        }
        return params.toString();
    }
}
