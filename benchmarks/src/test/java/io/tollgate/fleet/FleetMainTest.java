package io.tollgate.fleet;

import io.tollgate.benchmarks.RedisLauncher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class FleetMainTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return FleetMain.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
    }

    private String output() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void inMemoryRunHoldsEveryLimitAndPrintsTheTable() {
        int code = run("--duration", "2s", "--replicas", "3", "--threads", "2");

        assertThat(code).as(output() + err).isZero();
        assertThat(output())
                .containsPattern("\\[ +\\d+\\.\\ds\\] checks +[\\d,]+/s")
                .contains(Report.TABLE_TITLE, "holder", "overshoot")
                .contains("VIRTUAL_KEY:vk-search-prod", "MODEL_CONFIG:gpt-4o-everyone", "USER:u-carol")
                .contains("REQUEST_LIMITED", "Check latency: p50", "p99.9", "charged twice 0")
                .contains("OK: no request limit admitted more than its max");
    }

    @Test
    void redisRunWithAClientPerReplicaHoldsEveryLimit() {
        try (RedisLauncher redis = RedisLauncher.start()) {
            int code = run("--duration", "2s", "--replicas", "2", "--threads", "2", "--redis", redis.uri());

            assertThat(code).as(output() + err).isZero();
            assertThat(output()).contains("Redis at " + redis.uri(), Report.TABLE_TITLE, "VIRTUAL_KEY:vk-globex",
                    "OK: no request limit admitted more than its max");
        }
    }

    @Test
    void aConfigFileIsEnforcedAsGiven(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("config.json");
        Files.writeString(config, """
                {
                  "virtualKeys": [
                    { "id": "vk-only", "secretHash": "%s",
                      "rateLimit": { "requestMax": 25, "requestResetPeriod": "1s" } }
                  ]
                }
                """.formatted("0".repeat(64)));

        int code = run("--duration", "1s", "--replicas", "2", "--threads", "1", "--config", config.toString());

        assertThat(code).as(output() + err).isZero();
        assertThat(output()).contains("config " + config, "VIRTUAL_KEY:vk-only", "REQUEST_LIMITED");
    }

    @Test
    void aStoreThatLetsTooManyThroughFailsTheRun() throws Exception {
        FleetConfig config = FleetConfig.load(null);
        Fleet.Settings settings = new Fleet.Settings(2, 2, java.time.Duration.ofSeconds(1), config, null, 1, 0);

        int code = new Fleet(settings, new PrintStream(out, true, StandardCharsets.UTF_8), new LeakyStores()).run();

        assertThat(code).isEqualTo(Fleet.LIMIT_EXCEEDED);
        assertThat(output()).contains("FAIL: ", "requests in one window, max");
    }

    @Test
    void badOptionsExitWithTwoAndSayWhy() {
        assertThat(run("--replicas", "0")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--replicas: 0 must be at least 1");
        assertThat(run("--duration", "soon")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("\"soon\" is not a duration");
    }

    @Test
    void theExampleConfigurationCanBePrinted() {
        assertThat(run("--print-config")).isZero();
        assertThat(output()).contains("\"virtualKeys\"", "\"modelConfigs\"");
    }
}
