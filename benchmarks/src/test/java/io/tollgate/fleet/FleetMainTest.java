package io.tollgate.fleet;

import io.tollgate.Outcome;
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
    void withoutAPaceTheFleetSendsAsFastAsTheStoreAnswersAndStillHoldsEveryLimit() {
        FleetMain.Result result = FleetMain.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), "--rate", "0", "--duration", "1s",
                "--replicas", "2", "--threads", "2");

        assertThat(result.code()).as(output() + err).isZero();
        assertThat(result.ledger().outcome(Workload.Kind.TENANT, Outcome.REQUEST_LIMITED)).isPositive();
        assertThat(output()).contains("each as fast as the store answers", Report.VERDICT_OK);
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
        assertThat(output()).contains("config: " + config, "the first keys sending the most", "VIRTUAL_KEY:vk-only",
                "REQUEST_LIMITED", Report.VERDICT_OK);
    }

    @Test
    void aStoreThatLetsTooManyThroughFailsTheRun() throws Exception {
        FleetConfig config = FleetConfig.load(null);
        Fleet.Settings settings = new Fleet.Settings(2, 2, java.time.Duration.ofSeconds(1), config, null, false, 1, 0,
                false);

        int code = new Fleet(settings, new PrintStream(out, true, StandardCharsets.UTF_8), new LeakyStores()).run();

        assertThat(code).isEqualTo(Fleet.LIMIT_EXCEEDED);
        assertThat(output()).contains("FAIL (exit 1): ", "requests in one window, max");
    }

    @Test
    void badOptionsExitWithTwoAndSayWhy() {
        assertThat(run("--replicas", "0")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--replicas: 0 must be at least 1");
        assertThat(run("--duration", "soon")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("\"soon\" is not a duration");
        assertThat(run("--leases")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--leases: leased admission is a Redis store's");
    }

    @Test
    void optionsOfTheProcessFleetAreCheckedBeforeAnyProcessStarts() {
        assertThat(run("--processes", "2")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--processes: the replica processes share a Redis");
        assertThat(run("--max", "100")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--max: applies to a run with --processes only");
        assertThat(run("--redis", "redis://127.0.0.1:1", "--processes", "2", "--replicas", "3")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--replicas: does not apply with --processes");
        assertThat(run("--redis", "redis://127.0.0.1:1", "--processes", "1", "--kill-one")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--kill-one: needs --processes 2 or more");
        assertThat(run("--redis", "redis://127.0.0.1:1", "--processes", "2", "--kill-one", "--duration", "3s"))
                .isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--kill-one: --duration 3s must be at least 6s");
        assertThat(run("--redis", "redis://127.0.0.1:1", "--processes", "2", "--window", "50ms")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--window: 50ms must be at least 100ms");
    }

    @Test
    void theHelpNamesTheOptionsOfTheProcessFleet() {
        assertThat(run("--help")).isZero();
        assertThat(output()).contains("--leases", "--processes=N", "--max=", "--window=", "--warm-up=",
                "--kill-one");
    }

    @Test
    void theExampleConfigurationCanBePrinted() {
        assertThat(run("--print-config")).isZero();
        assertThat(output()).contains("\"virtualKeys\"", "\"modelConfigs\"");
    }
}
