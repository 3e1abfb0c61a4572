package io.tollgate.fleet;

import io.tollgate.Holder;
import io.tollgate.Metric;
import io.tollgate.Outcome;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The tool's default run (built-in example, in-memory store, default pace and fleet), shortened to 3 seconds. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetDefaultRunTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private FleetMain.Result result;
    private Ledger ledger;

    @BeforeAll
    void runTheDefaultFleet() {
        result = FleetMain.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), "--duration", "3s");
        ledger = result.ledger();
    }

    private String output() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theRunHoldsEveryLimitAndExitsWithZero() {
        assertThat(result.code()).as(output() + err).isZero();
        assertThat(ledger.violations()).isEmpty();
        assertThat(ledger.errors.sum()).isZero();
        assertThat(output()).contains(Report.VERDICT_OK);
    }

    @Test
    void theLargeMajorityOfRequestsIsAdmittedAndSomeAreDenied() {
        assertThat(ledger.admittedShare()).isBetween(0.85, 0.98);
        assertThat(output()).containsPattern("Admitted: [\\d,]+ of [\\d,]+ checks \\(\\d+\\.\\d %\\)");
    }

    @Test
    void theTightTenantsAreDeniedAtTheirLimitsWhileTheOthersHaveRoom() {
        Ledger.LimitStats direct = only(ledger.limits(Holder.virtualKey("vk-globex-direct"), Metric.REQUESTS));
        Ledger.LimitStats trial = only(ledger.limits(Holder.customer("initech"), Metric.COST));

        assertThat(direct.denied.sum()).isPositive();
        assertThat(direct.peak()).as("requests admitted in its fullest window").isEqualTo(direct.limit.max());
        assertThat(trial.denied.sum()).isPositive();
        assertThat(ledger.outcome(Workload.Kind.TENANT, Outcome.REQUEST_LIMITED)).isPositive();
        assertThat(ledger.outcome(Workload.Kind.TENANT, Outcome.BUDGET_EXCEEDED)).isPositive();
        for (String key : List.of("vk-search-prod", "vk-chat-web", "vk-globex", "vk-search-batch")) {
            for (Metric metric : Metric.values()) {
                for (Ledger.LimitStats stats : ledger.limits(Holder.virtualKey(key), metric)) {
                    assertThat(stats.admitted.sum()).as(stats.limit.toString()).isPositive();
                    assertThat(stats.denied.sum()).as(stats.limit.toString()).isZero();
                }
            }
        }
    }

    @Test
    void streamedCallsComeInSeveralChunksAndAreChargedOnTheirFinalChunkOnly() {
        long streamed = ledger.streamedCalls.sum();

        assertThat(streamed).isPositive();
        assertThat(ledger.chunks.sum()).isGreaterThanOrEqualTo(Workload.MIN_CHUNKS * streamed);
        // A chunk without usage charges nothing; only a final chunk with a token or cost limit to charge is charged.
        assertThat(ledger.chunksCharged.sum()).isPositive().isLessThanOrEqualTo(streamed);
    }

    @Test
    void reSentChargesAreAnsweredDuplicateAndNeverChargedTwice() {
        assertThat(ledger.resent.sum()).isPositive();
        assertThat(ledger.refusedAsDuplicate.sum()).isEqualTo(ledger.resent.sum());
        assertThat(ledger.chargedTwice.sum()).isZero();
    }

    @Test
    void unknownBlockedAndKeylessRequestsGetTheirOwnAnswers() {
        assertAllAnswered(Workload.Kind.UNKNOWN_KEY, Outcome.VIRTUAL_KEY_NOT_FOUND);
        assertAllAnswered(Workload.Kind.BLOCKED_KEY, Outcome.VIRTUAL_KEY_BLOCKED);
        assertAllAnswered(Workload.Kind.BLOCKED_PROVIDER, Outcome.PROVIDER_BLOCKED);
        assertAllAnswered(Workload.Kind.BLOCKED_MODEL, Outcome.MODEL_BLOCKED);
        assertAllAnswered(Workload.Kind.NO_KEY, Outcome.ALLOWED);
    }

    @Test
    void theReportSaysWhatWasAdmittedDeniedStreamedAndReSent() {
        assertThat(output())
                .containsPattern("\\[ +\\d+\\.\\ds\\] checks +[\\d,]+/s +admitted +\\d+\\.\\d %")
                .contains("50 checks/s each (800 in all)", "built-in example", "weighted per key")
                .contains(Report.TABLE_TITLE, "VIRTUAL_KEY:vk-globex-direct", "CUSTOMER:initech", "USER:u-carol")
                .containsPattern("tenants +[\\d,]+ +[\\d,]+ +REQUEST_LIMITED [\\d,]+")
                .containsPattern("unknown key +[\\d,]+ +0 +VIRTUAL_KEY_NOT_FOUND [\\d,]+")
                .containsPattern("blocked model +[\\d,]+ +0 +MODEL_BLOCKED [\\d,]+")
                .containsPattern("Calls charged: [\\d,]+ whole, [\\d,]+ streamed in [\\d,]+ chunks")
                .containsPattern("Duplicates: [\\d,]+ charged updates re-sent through another replica, [\\d,]+ "
                        + "answered DUPLICATE, 0 charged twice")
                .contains("Check latency: p50", "p99.9")
                .doesNotContain("Redis calls");
    }

    private void assertAllAnswered(Workload.Kind kind, Outcome outcome) {
        assertThat(ledger.checks(kind)).as(kind.label).isPositive();
        assertThat(ledger.outcome(kind, outcome)).as(kind.label).isEqualTo(ledger.checks(kind));
    }

    private static Ledger.LimitStats only(List<Ledger.LimitStats> stats) {
        assertThat(stats).hasSize(1);
        return stats.get(0);
    }
}
