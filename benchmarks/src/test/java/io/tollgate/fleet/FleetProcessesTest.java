package io.tollgate.fleet;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The multi-process hot-key run with leases, on a {@code redis-server} the tool starts: three replica JVMs, one of
 * them SIGKILLed, short enough for a test and long enough for full windows before and after the kill.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetProcessesTest {

    private static final long MAX = 500;
    private static final int THREADS = 2;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private FleetMain.Result result;
    private ProcessReport report;

    @BeforeAll
    void runThreeReplicaProcessesAndKillOne() {
        result = FleetMain.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), "--redis", "local", "--leases",
                "--processes", "3", "--threads", Integer.toString(THREADS), "--max", Long.toString(MAX),
                "--window", "1s", "--warm-up", "2s", "--kill-one", "--duration", "7s");
        report = result.processes();
    }

    private String output() {
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theRunExitsWithZeroAndNoWindowAdmitsMoreThanTheMax() {
        assertThat(result.code()).as(output()).isZero();
        assertThat(report.violations()).as(output()).isEmpty();
        for (ProcessReport.Window window : report.windows()) {
            assertThat(window.admitted()).as(output()).isLessThanOrEqualTo(MAX);
            if (window.counted() != null) {
                assertThat(window.counted()).as(output()).isLessThanOrEqualTo(MAX);
            }
            if (window.counted() != null && window.full()) {
                // Redis counts what was admitted and what the replicas hold unused
                assertThat(window.counted()).as(output()).isGreaterThanOrEqualTo(window.admitted());
            }
        }
        assertThat(output()).contains(ProcessReport.VERDICT_OK);
    }

    @Test
    void everyFullWindowButTheKillWindowAdmitsNearlyTheMax() {
        assertThat(report.fullWindows()).as(output()).hasSizeGreaterThanOrEqualTo(4);
        assertThat(report.minFullShare()).as(output()).isGreaterThanOrEqualTo(0.95);
        // every replica admits in every full window before the kill; the killed one in none after it
        ProcessReport.Window kill = report.killWindow();
        for (ProcessReport.Window window : report.fullWindows()) {
            long killed = window.admittedByReplica().get(2);
            if (window.start() < kill.start()) {
                assertThat(killed).as(output()).isPositive();
            } else {
                assertThat(killed).as(output()).isZero();
            }
        }
    }

    @Test
    void theKillWindowFallsShortByNoMoreThanTheKilledReplicaHeld() {
        ProcessReport.Window kill = report.killWindow();

        assertThat(kill).as(output()).isNotNull();
        assertThat(report.kill().replica()).isEqualTo(2);
        // it admitted some of the kill window before it died
        assertThat(kill.admittedByReplica().get(2)).as(output()).isPositive();
        // Not within the stated bound alone: a replica's top-ups of one counter add up to more than one slice.
        assertThat(report.killUnderAdmission()).as(output()).isBetween(0L, report.killBound());
        assertThat(report.statedBound()).isEqualTo(25);
        assertThat(output()).containsPattern("Kill window \\d\\d:\\d\\d:\\d\\d\\.000: replica 2 SIGKILLed \\d+ ms into "
                        + "it; admitted [\\d,]+ of max 500: under-admission \\d+")
                .containsPattern("stated bound: what the killed replica held, each slice at most maxShare 0\\.05 of "
                        + "what was left, so at most 0\\.05 x max 500 = 25: the under-admission is (within|ABOVE) it")
                .containsPattern("the killed replica last published [\\d,]+ requests held unused \\(over all its "
                        + "counters, \\d+ ms before its death\\); with one slice taken since or in flight \\(25\\) and "
                        + "2 checks decided but not recorded: [\\d,]+: the under-admission is within it");
    }

    @Test
    void everyCheckSinceTheStartIsAnsweredFromASliceFromMemoryOrByRedis() {
        long answered = report.sinceStart(WindowCounts.LOCAL_ADMISSIONS)
                + report.sinceStart(WindowCounts.SHARED_DECISIONS) + report.sinceStart(WindowCounts.CACHED_DENIALS);

        // the warm-up's are left out; the killed replica's stats are as it last published them
        assertThat(answered).as(output()).isCloseTo(report.total(WindowCounts.DECISIONS), within(100L));
        assertThat(report.sinceStart(WindowCounts.LOCAL_ADMISSIONS)).as(output()).isPositive();
    }

    @Test
    void theReportCountsRedisCallsPerDecisionAndPerThousandAdmitted() {
        ProcessReport.RedisCalls calls = report.calls();

        assertThat(calls).isNotNull();
        assertThat(calls.decisions()).isPositive();
        // most checks are answered by a replica's slices or its memory of a spent counter
        assertThat(calls.scriptsPerDecision()).as(output()).isBetween(0.0, 0.5);
        assertThat(calls.scriptsPerThousandAdmitted()).as(output()).isPositive();
        assertThat(output()).contains("on the fleet's own server: exact")
                .containsPattern("[\\d,]+ script calls \\(EVALSHA\\+EVAL\\) for [\\d,]+ decisions: 0\\.\\d{3} per "
                        + "decision, [\\d.]+ per 1,000 admitted");
    }
}
