package io.tollgate;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DecisionTest {

    private static final Instant NOW = Instant.parse("2027-03-10T10:30:00Z");
    private static final Window HOUR = new Window(Instant.parse("2027-03-10T10:00:00Z").toEpochMilli(),
            Instant.parse("2027-03-10T11:00:00Z").toEpochMilli());
    private static final Window FOREVER = new Window(0, Long.MAX_VALUE);

    private static LimitUsage usage(Metric metric, long max, long used, Window window) {
        WindowSpec spec = window.isUnbounded() ? WindowSpec.unbounded() : WindowSpec.rolling(ResetPeriod.parse("1h"));
        return new LimitUsage(new Limit(Holder.team("t-" + metric + max), metric, max, spec), used, window);
    }

    private static Decision denied(Outcome outcome, LimitUsage deniedBy, Instant resetAt) {
        return new Decision(outcome, List.of(deniedBy), deniedBy, resetAt, NOW, null);
    }

    private static Decision allowed(LimitUsage... usages) {
        long[] taken = new long[usages.length];
        for (int i = 0; i < usages.length; i++) {
            taken[i] = usages[i].limit().metric() == Metric.REQUESTS ? 1 : 0;
        }
        List<Limit> limits = Arrays.stream(usages).map(LimitUsage::limit).toList();
        return new Decision(Outcome.ALLOWED, List.of(usages), null, null, NOW,
                new Reservation(limits, taken, null));
    }

    @ParameterizedTest(name = "{0} ms to reset -> Retry-After {1}")
    @CsvSource({"1, 1", "999, 1", "1000, 1", "1001, 2", "1800000, 1800", "0, 0", "-5000, 0"})
    void retryAfterIsTheTimeToResetRoundedUpToWholeSeconds(long millis, long seconds) {
        Decision d = denied(Outcome.REQUEST_LIMITED, usage(Metric.REQUESTS, 5, 5, HOUR), NOW.plusMillis(millis));
        assertThat(d.retryAfter()).contains(Duration.ofSeconds(seconds));
        assertThat(d.headers()).containsEntry("Retry-After", Long.toString(seconds));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"ALLOWED, 200", "VIRTUAL_KEY_NOT_FOUND, 401", "VIRTUAL_KEY_BLOCKED, 403", "PROVIDER_BLOCKED, 403",
            "MODEL_BLOCKED, 403", "REQUEST_LIMITED, 429", "TOKEN_LIMITED, 429", "RATE_LIMITED, 429",
            "BUDGET_EXCEEDED, 402"})
    void everyOutcomeHasItsHttpStatus(Outcome outcome, int status) {
        assertThat(Decision.refused(outcome, NOW).httpStatus()).isEqualTo(status);
        assertThat(Decision.refused(outcome, NOW).allowed()).isEqualTo(outcome == Outcome.ALLOWED);
    }

    @Test
    void refusalBeforeTheLimitsHasNoHeaders() {
        Decision d = Decision.refused(Outcome.VIRTUAL_KEY_NOT_FOUND, NOW);
        assertThat(d.headers()).isEmpty();
        assertThat(d.retryAfter()).isEmpty();
        assertThat(d.limits()).isEmpty();
        assertThat(d).hasToString("Decision[VIRTUAL_KEY_NOT_FOUND]");
    }

    @Test
    void denialByALimitThatNeverResetsHasNoRetryAfterOrReset() {
        Decision d = denied(Outcome.BUDGET_EXCEEDED, usage(Metric.COST, 1_000, 1_200, FOREVER), null);
        assertThat(d.headers()).containsExactly(Map.entry("X-RateLimit-Limit", "1000"),
                Map.entry("X-RateLimit-Remaining", "0"));
    }

    @Test
    void allowedHeadersShowTheRequestLimitWithLeastRoomAfterThisRequest() {
        Decision d = allowed(usage(Metric.TOKENS, 10, 9, HOUR), usage(Metric.REQUESTS, 100, 10, HOUR),
                usage(Metric.REQUESTS, 50, 5, HOUR), usage(Metric.COST, 5, 4, FOREVER));
        assertThat(d.headers()).containsExactly(Map.entry("X-RateLimit-Limit", "50"),
                Map.entry("X-RateLimit-Remaining", "44"), Map.entry("X-RateLimit-Reset", "1800"));
    }

    @Test
    void allowedHeadersFallBackToTheLimitWithLeastRoomWithoutARequestLimit() {
        Decision d = allowed(usage(Metric.TOKENS, 10, 2, HOUR), usage(Metric.COST, 5, 4, FOREVER));
        assertThat(d.headers()).containsExactly(Map.entry("X-RateLimit-Limit", "5"),
                Map.entry("X-RateLimit-Remaining", "1"));
    }
}
