package io.tollgate;

import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

class RateLimitHeadersTest {

    private static final Instant NOW = Instant.parse("2027-03-10T10:30:00Z");
    private static final Window HOUR = new Window(Instant.parse("2027-03-10T10:00:00Z").toEpochMilli(),
            Instant.parse("2027-03-10T11:00:00Z").toEpochMilli());
    private static final Window FOREVER = new Window(0, Long.MAX_VALUE);

    private static LimitUsage usage(Metric metric, long max, long used, Window window) {
        WindowSpec spec = window.isUnbounded() ? WindowSpec.unbounded() : WindowSpec.rolling(ResetPeriod.parse("1h"));
        return new LimitUsage(new Limit(Holder.team("t-" + metric + max), metric, max, spec), used, window);
    }

    private static Decision allowed(long estimatedTokens, LimitUsage... usages) {
        long[] taken = new long[usages.length];
        for (int i = 0; i < usages.length; i++) {
            taken[i] = switch (usages[i].limit().metric()) {
                case REQUESTS, IN_FLIGHT -> 1;
                case TOKENS -> estimatedTokens;
                case COST -> 0;
            };
        }
        List<Limit> limits = Arrays.stream(usages).map(LimitUsage::limit).toList();
        return new Decision(Outcome.ALLOWED, List.of(usages), null, null, NOW, new Reservation(limits, taken, null));
    }

    @Test
    void allowedDecisionShowsEachMetricsTightestLimitAfterThisRequest() {
        Decision d = allowed(100, usage(Metric.REQUESTS, 100, 10, HOUR), usage(Metric.REQUESTS, 50, 5, HOUR),
                usage(Metric.TOKENS, 10_000, 1_000, HOUR), usage(Metric.TOKENS, 5_000, 4_000, HOUR));

        assertThat(d.headers(RateLimitHeaders.all())).containsExactly(
                entry("X-RateLimit-Limit", "50"), entry("X-RateLimit-Remaining", "44"),
                entry("X-RateLimit-Reset", "1800"),
                entry("x-ratelimit-limit-requests", "50"), entry("x-ratelimit-remaining-requests", "44"),
                entry("x-ratelimit-reset-requests", "30m0s"),
                entry("x-ratelimit-limit-tokens", "5000"), entry("x-ratelimit-remaining-tokens", "900"),
                entry("x-ratelimit-reset-tokens", "30m0s"),
                entry("RateLimit-Policy", "\"requests\";q=50;w=3600, \"tokens\";q=5000;w=3600"),
                entry("RateLimit", "\"requests\";r=44;t=1800, \"tokens\";r=900;t=1800"));
    }

    @Test
    void deniedDecisionShowsNothingLeftOfTheLimitThatDeniedAndTheOtherMetricAsItIs() {
        LimitUsage spent = usage(Metric.TOKENS, 5_000, 5_000, HOUR);
        LimitUsage requests = usage(Metric.REQUESTS, 100, 10, HOUR);
        Decision d = new Decision(Outcome.TOKEN_LIMITED, List.of(requests, spent), spent,
                NOW.plusSeconds(1800), NOW, null);

        assertThat(d.headers(RateLimitHeaders.all())).containsExactly(
                entry("Retry-After", "1800"),
                entry("X-RateLimit-Limit", "5000"), entry("X-RateLimit-Remaining", "0"),
                entry("X-RateLimit-Reset", "1800"),
                entry("x-ratelimit-limit-requests", "100"), entry("x-ratelimit-remaining-requests", "90"),
                entry("x-ratelimit-reset-requests", "30m0s"),
                entry("x-ratelimit-limit-tokens", "5000"), entry("x-ratelimit-remaining-tokens", "0"),
                entry("x-ratelimit-reset-tokens", "30m0s"),
                entry("RateLimit-Policy", "\"requests\";q=100;w=3600, \"tokens\";q=5000;w=3600"),
                entry("RateLimit", "\"requests\";r=90;t=1800, \"tokens\";r=0;t=1800"));
    }

    @Test
    void limitsThatNeverResetHaveNoResetNoWindowAndNoTime() {
        Decision d = allowed(0, usage(Metric.REQUESTS, 1_000, 10, FOREVER), usage(Metric.TOKENS, 9, 2, FOREVER));

        assertThat(d.headers(RateLimitHeaders.all())).containsExactly(
                entry("X-RateLimit-Limit", "1000"), entry("X-RateLimit-Remaining", "989"),
                entry("x-ratelimit-limit-requests", "1000"), entry("x-ratelimit-remaining-requests", "989"),
                entry("x-ratelimit-limit-tokens", "9"), entry("x-ratelimit-remaining-tokens", "7"),
                entry("RateLimit-Policy", "\"requests\";q=1000, \"tokens\";q=9"),
                entry("RateLimit", "\"requests\";r=989, \"tokens\";r=7"));
    }

    @Test
    void aMetricWithoutALimitHasNoSetAndNoItem() {
        Decision d = allowed(0, usage(Metric.REQUESTS, 10, 0, HOUR), usage(Metric.COST, 5, 4, FOREVER));

        Map<String, String> headers = d.headers(RateLimitHeaders.all());
        assertThat(headers).containsKeys("x-ratelimit-limit-requests")
                .doesNotContainKeys("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
                        "x-ratelimit-reset-tokens");
        assertThat(headers).containsEntry("RateLimit", "\"requests\";r=9;t=1800");
    }

    @Test
    void customNamesReplaceTheDefaultsAndEverySetCanBeTurnedOff() {
        Decision d = new Decision(Outcome.REQUEST_LIMITED, List.of(usage(Metric.REQUESTS, 3, 3, HOUR)),
                usage(Metric.REQUESTS, 3, 3, HOUR), NOW.plusSeconds(90), NOW, null);
        RateLimitHeaders names = RateLimitHeaders.builder()
                .retryAfter("Retry-In")
                .noTightest()
                .requests("Req-Max", "Req-Left", "Req-Reset")
                .ietf("Quota-Policy", "Quota")
                .build();

        assertThat(d.headers(names)).containsExactly(entry("Retry-In", "90"),
                entry("Req-Max", "3"), entry("Req-Left", "0"), entry("Req-Reset", "30m0s"),
                entry("Quota-Policy", "\"requests\";q=3;w=3600"), entry("Quota", "\"requests\";r=0;t=1800"));

        RateLimitHeaders none = names.toBuilder().noRetryAfter().noRequests().noTokens().noIetf().build();
        assertThat(d.headers(none)).isEmpty();
    }

    @Test
    void headersWithoutOptionsAreTheDefaults() {
        Decision d = allowed(0, usage(Metric.REQUESTS, 10, 2, HOUR), usage(Metric.TOKENS, 10, 2, HOUR));

        assertThat(d.headers()).isEqualTo(d.headers(RateLimitHeaders.defaults()))
                .containsOnlyKeys("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset");
    }

    @Test
    void aQuotaLargerThanAStructuredFieldIntegerIsCappedAtFifteenDigits() {
        Decision d = allowed(0, usage(Metric.TOKENS, Long.MAX_VALUE, 0, HOUR));

        assertThat(d.headers(RateLimitHeaders.all())).containsEntry("RateLimit-Policy",
                "\"tokens\";q=999999999999999;w=3600");
    }

    @Test
    void aCheckAgainstTheInMemoryStoreGivesEverySet() {
        GovernanceConfig config = GovernanceConfig.builder()
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-1")
                        .rateLimit(RateLimit.builder().requests(2, "1m").tokens(1_000, "1m").build()).build())
                .build();
        TestClock clock = new TestClock(Instant.parse("2027-03-10T10:30:15Z"));
        try (InMemoryGovernanceStore store = InMemoryGovernanceStore.builder().clock(clock).build()) {
            BudgetResolver resolver = BudgetResolver.create(store, () -> config, clock);
            CheckRequest request = CheckRequest.builder().virtualKey("sk-1").estimatedTokens(300).build();

            assertThat(resolver.check(request).headers(RateLimitHeaders.all())).contains(
                    entry("x-ratelimit-remaining-requests", "1"), entry("x-ratelimit-remaining-tokens", "700"),
                    entry("x-ratelimit-reset-tokens", "45s"),
                    entry("RateLimit", "\"requests\";r=1;t=45, \"tokens\";r=700;t=45"));
            resolver.check(request);
            Decision denied = resolver.check(request);
            assertThat(denied.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
            assertThat(denied.headers(RateLimitHeaders.all())).contains(entry("Retry-After", "45"),
                    entry("x-ratelimit-remaining-requests", "0"), entry("x-ratelimit-remaining-tokens", "400"),
                    entry("RateLimit-Policy", "\"requests\";q=2;w=60, \"tokens\";q=1000;w=60"));
        }
    }

    @ParameterizedTest(name = "{0} s -> {1}")
    @CsvSource({"0, 0s", "1, 1s", "59, 59s", "60, 1m0s", "61, 1m1s", "3600, 1h0m0s", "3605, 1h0m5s",
            "90061, 25h1m1s"})
    void resetsAreWrittenAsOpenAiWritesDurations(long seconds, String text) {
        assertThat(DecisionHeaders.duration(seconds)).isEqualTo(text);
    }

    @Test
    void aNameThatIsNotAnHttpFieldNameIsRefusedNamingTheFieldAndTheValue() {
        assertThatThrownBy(() -> RateLimitHeaders.builder().requests("Req Max", "Req-Left", "Req-Reset").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("RateLimitHeaders.requests.limit: \"Req Max\" is not an HTTP field name (letters, digits "
                        + "and !#$%&'*+-.^_`|~ only, not empty)");
        assertThatThrownBy(() -> RateLimitHeaders.builder().retryAfter("").build())
                .hasMessageStartingWith("RateLimitHeaders.retryAfter: \"\" is not an HTTP field name");
    }

    @Test
    void twoSetsMayNotShareANameInAnyCase() {
        assertThatThrownBy(() -> RateLimitHeaders.builder().tokens("x-ratelimit-limit", "b", "c").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("RateLimitHeaders.tokens.limit: \"x-ratelimit-limit\" is also the name of tightest.limit");
    }
}
