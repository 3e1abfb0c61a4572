package io.tollgate;

import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Soft budgets: a counter brought near its maximum by an admitted check is told once per window. */
class NearLimitTest {

    private static final String SECRET = "sk-near-1";
    private static final GovernanceConfig CONFIG = GovernanceConfig.builder()
            .virtualKey(VirtualKey.builder("vk-1").secret(SECRET)
                    .rateLimit(RateLimit.builder().requests(10, "1h").tokens(1_000, "1h").inFlight(2).build())
                    .build())
            .build();
    private static final CheckRequest REQUEST = CheckRequest.builder().virtualKey(SECRET).build();

    private final TestClock clock = new TestClock(Instant.parse("2027-03-10T10:30:00Z"));
    private final InMemoryGovernanceStore store = InMemoryGovernanceStore.builder().clock(clock).build();
    private final Heard heard = new Heard();

    @AfterEach
    void close() {
        store.close();
    }

    private BudgetResolver resolver() {
        return BudgetResolver.create(store, () -> CONFIG, clock).withListener(heard);
    }

    @Test
    void theCheckThatBringsACounterToEightyPercentIsToldOnceInItsWindow() {
        BudgetResolver resolver = resolver();
        for (int i = 1; i <= 7; i++) {
            settled(resolver.check(REQUEST), "a-" + i);
        }
        assertThat(heard.usages).isEmpty();

        for (int i = 8; i <= 11; i++) {
            settled(resolver.check(REQUEST), "b-" + i);
        }

        assertThat(heard.usages).singleElement().satisfies(usage -> {
            assertThat(usage.limit().metric()).isEqualTo(Metric.REQUESTS);
            assertThat(usage.used()).as("the value after the check").isEqualTo(8);
            assertThat(usage.window().start()).isEqualTo(Instant.parse("2027-03-10T10:00:00Z"));
        });
        assertThat(heard.ratios).containsExactly(0.8);
    }

    @Test
    void theNextWindowIsToldAgain() {
        BudgetResolver resolver = resolver().withNearLimitRatio(0.1);
        settled(resolver.check(REQUEST), "r-1");
        settled(resolver.check(REQUEST), "r-2");
        clock.advance(Duration.ofHours(1));
        settled(resolver.check(REQUEST), "r-3");

        assertThat(heard.usages).extracting(usage -> usage.window().start()).containsExactly(
                Instant.parse("2027-03-10T10:00:00Z"), Instant.parse("2027-03-10T11:00:00Z"));
    }

    @Test
    void tokensChargedSinceTheLastCheckAndTheEstimateACheckHoldsCount() {
        BudgetResolver resolver = resolver();
        UsageTracker tracker = UsageTracker.create(store, CONFIG);
        Decision first = resolver.check(REQUEST);
        tracker.charge(UsageUpdate.builder().virtualKey(SECRET).tokens(700).requestId("r-1")
                .reservation(first.reservation().orElseThrow()).build());
        assertThat(heard.usages).isEmpty();

        Decision second = resolver.check(CheckRequest.builder().virtualKey(SECRET).estimatedTokens(150).build());

        assertThat(second.allowed()).isTrue();
        assertThat(heard.usages).singleElement().satisfies(usage -> {
            assertThat(usage.limit().metric()).isEqualTo(Metric.TOKENS);
            assertThat(usage.used()).as("700 charged and 150 held").isEqualTo(850);
        });
    }

    @Test
    void aRatioOfOneTellsOfTheCheckThatFilledTheLimit() {
        BudgetResolver resolver = resolver().withNearLimitRatio(1);
        for (int i = 1; i <= 9; i++) {
            settled(resolver.check(REQUEST), "r-" + i);
        }
        assertThat(heard.usages).isEmpty();

        settled(resolver.check(REQUEST), "r-10");

        assertThat(heard.usages).singleElement().extracting(LimitUsage::used).isEqualTo(10L);
        assertThat(heard.ratios).containsExactly(1.0);
    }

    @Test
    void inFlightLimitsAreNeverToldAndDeniedChecksTellNothing() {
        BudgetResolver resolver = resolver().withNearLimitRatio(0.5);
        resolver.check(REQUEST);
        resolver.check(REQUEST);
        Decision denied = resolver.check(REQUEST);

        assertThat(denied.outcome()).isEqualTo(Outcome.IN_FLIGHT_LIMITED);
        assertThat(heard.usages).isEmpty();
    }

    @Test
    void eachResolverTellsOnceSoEachReplicaDoes() {
        BudgetResolver one = resolver().withNearLimitRatio(0.2);
        BudgetResolver other = resolver().withNearLimitRatio(0.2);
        for (int i = 0; i < 3; i++) {
            settled(one.check(REQUEST), "a-" + i);
            settled(other.check(REQUEST), "b-" + i);
        }

        assertThat(heard.usages).extracting(LimitUsage::used).containsExactly(2L, 3L);
    }

    @Test
    void aShadowedLimitIsToldAgainstItsRealMaximum() {
        BudgetResolver resolver = resolver().withShadow();
        for (int i = 1; i <= 8; i++) {
            settled(resolver.check(REQUEST), "r-" + i);
        }

        assertThat(heard.usages).singleElement().satisfies(usage -> {
            assertThat(usage.limit().max()).isEqualTo(10);
            assertThat(usage.used()).isEqualTo(8);
        });
    }

    @Test
    void aListenerThatThrowsChangesNothing() {
        BudgetResolver resolver = BudgetResolver.create(store, () -> CONFIG, clock).withNearLimitRatio(0.1)
                .withListener(new TollgateListener() {
                    @Override
                    public void nearLimit(LimitUsage usage, double ratio) {
                        throw new IllegalStateException("a listener bug");
                    }
                });

        assertThat(resolver.check(REQUEST).allowed()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(doubles = {0, -0.5, 1.01, Double.NaN, Double.POSITIVE_INFINITY})
    void aRatioOutsideZeroToOneIsRefusedNamingTheValue(double ratio) {
        assertThatThrownBy(() -> resolver().withNearLimitRatio(ratio))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("nearLimitRatio: " + ratio + " must be above 0 and at most 1");
    }

    /** Ends the request, so that its in-flight slot is given back. */
    private void settled(Decision decision, String requestId) {
        decision.reservation().ifPresent(reservation -> UsageTracker.create(store, CONFIG).charge(
                UsageUpdate.builder().virtualKey(SECRET).requestId(requestId).reservation(reservation).build()));
    }

    private static final class Heard implements TollgateListener {
        final List<LimitUsage> usages = new CopyOnWriteArrayList<>();
        final List<Double> ratios = new CopyOnWriteArrayList<>();

        @Override
        public void nearLimit(LimitUsage usage, double ratio) {
            usages.add(usage);
            ratios.add(ratio);
        }
    }
}
