package io.tollgate;

import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.ReserveResult;
import io.tollgate.spi.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Limits checked in shadow count and report, and never deny; enforced ones beside them deny as before. */
class ShadowModeTest {

    private static final String SECRET = "sk-shadow-1";
    private static final GovernanceConfig CONFIG = GovernanceConfig.builder()
            .team(new Team("t-1", null, List.of(), RateLimit.builder().requests(3, "1h").build()))
            .virtualKey(VirtualKey.builder("vk-1").secret(SECRET).team("t-1")
                    .rateLimit(RateLimit.builder().requests(2, "1h").tokens(1_000, "1h").inFlight(5).build())
                    .build())
            .build();
    private static final CheckRequest REQUEST = CheckRequest.builder().virtualKey(SECRET).build();

    private final TestClock clock = new TestClock(Instant.parse("2027-03-10T10:30:00Z"));
    private final InMemoryGovernanceStore memory = InMemoryGovernanceStore.builder().clock(clock).build();
    private final Recording store = new Recording(memory);

    @AfterEach
    void close() {
        memory.close();
    }

    private BudgetResolver resolver() {
        return BudgetResolver.create(store, () -> CONFIG, clock);
    }

    @Test
    void everyLimitInShadowAdmitsPastItsMaximumAndKeepsCounting() {
        BudgetResolver shadow = resolver().withShadow();

        List<Decision> decisions = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            decisions.add(shadow.check(REQUEST));
        }

        assertThat(decisions).allSatisfy(d -> assertThat(d.allowed()).isTrue());
        assertThat(decisions.subList(0, 2)).allSatisfy(d -> assertThat(d.shadowDenied()).isFalse());
        Decision third = decisions.get(2);
        assertThat(third.shadowOutcome()).contains(Outcome.REQUEST_LIMITED);
        assertThat(third.shadowDeniedBy().orElseThrow().limit().holder()).isEqualTo(Holder.virtualKey("vk-1"));
        assertThat(third.shadowDeniedBy().orElseThrow().limit().max()).as("the real maximum").isEqualTo(2);
        assertThat(third.shadowDeniedBy().orElseThrow().used()).isEqualTo(2);
        assertThat(third.reservation()).isPresent();
        // the team's 3 requests are passed on the fourth: the key's limit comes first in resolution order
        assertThat(decisions.get(4).shadowDeniedBy().orElseThrow().used()).isEqualTo(4);
        assertThat(third.toString()).startsWith("Decision[ALLOWED, shadow=REQUEST_LIMITED, shadowDeniedBy=LimitUsage[limit=VIRTUAL_KEY:vk-1");
        assertThat(requestsCounted(third)).as("every admitted request counted").isEqualTo(5);
    }

    @Test
    void aShadowedLimitBesideEnforcedOnesReportsWhileTheEnforcedOnesDeny() {
        BudgetResolver resolver = resolver().withShadow(limit -> limit.holder().kind() == HolderKind.VIRTUAL_KEY);

        Decision first = resolver.check(REQUEST);
        Decision second = resolver.check(REQUEST);
        Decision third = resolver.check(REQUEST);
        Decision fourth = resolver.check(REQUEST);

        assertThat(List.of(first, second)).allSatisfy(d -> assertThat(d.shadowDenied()).isFalse());
        assertThat(third.allowed()).isTrue();
        assertThat(third.shadowOutcome()).contains(Outcome.REQUEST_LIMITED);
        assertThat(third.shadowLimits()).extracting(usage -> usage.limit().holder().kind()).containsOnly(
                HolderKind.VIRTUAL_KEY);
        assertThat(third.shadowLimits()).hasSize(3);
        // the team's enforced limit of 3 denies, and a denied request is shadow-denied by nothing
        assertThat(fourth.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertThat(fourth.deniedBy().orElseThrow().limit().holder()).isEqualTo(Holder.team("t-1"));
        assertThat(fourth.shadowDenied()).isFalse();
        assertThat(fourth.reservation()).isEmpty();
        assertThat(requestsCounted(first)).as("the denied request counted nowhere").isEqualTo(3);
    }

    @Test
    void aShadowedTokenLimitKeepsMeasuringWhatIsChargedAndTheReservationSettles() {
        BudgetResolver resolver = resolver().withShadow(limit -> limit.metric() == Metric.TOKENS);
        UsageTracker tracker = UsageTracker.create(store, () -> CONFIG);

        Decision first = resolver.check(CheckRequest.builder().virtualKey(SECRET).estimatedTokens(600).build());
        Decision second = resolver.check(CheckRequest.builder().virtualKey(SECRET).estimatedTokens(600).build());
        assertThat(second.allowed()).isTrue();
        assertThat(second.shadowOutcome()).contains(Outcome.TOKEN_LIMITED);
        assertThat(second.shadowDeniedBy().orElseThrow().used()).as("the first estimate is held").isEqualTo(600);

        int request = 0;
        for (Decision decision : List.of(first, second)) {
            assertThat(tracker.charge(UsageUpdate.builder().virtualKey(SECRET).tokens(700).requestId("r-" + ++request)
                    .reservation(decision.reservation().orElseThrow()).build())).isEqualTo(ChargeOutcome.CHARGED);
        }
        List<LimitUsage> limits = first.limits();
        assertThat(used(limits.get(1))).as("estimates given back, 1,400 charged").isEqualTo(1_400);
        assertThat(used(limits.get(2))).as("in-flight slots given back by the final charges").isZero();
    }

    @Test
    void theStoreSeesAShadowedLimitWithAnUnreachableMaximumAndTheSameListEveryTime() {
        BudgetResolver resolver = resolver().withShadow(limit -> limit.metric() == Metric.REQUESTS);

        resolver.check(REQUEST);
        resolver.check(REQUEST);

        CounterOps first = CounterOps.from(store.reserved.get(0));
        assertThat(first.limits()).as("kept per request shape, for the store's caches")
                .isSameAs(CounterOps.from(store.reserved.get(1)).limits());
        assertThat(first.limits()).allSatisfy(limit -> assertThat(limit.max()).isEqualTo(
                limit.metric() == Metric.REQUESTS ? Long.MAX_VALUE : limit.metric() == Metric.TOKENS ? 1_000 : 5));
    }

    @Test
    void aDecisionKeepsTheRealMaximumOfAShadowedLimitAndLeavesItOutOfTheHeaders() {
        BudgetResolver resolver = resolver().withShadow(limit -> limit.holder().kind() == HolderKind.VIRTUAL_KEY);

        Decision decision = resolver.check(REQUEST);

        assertThat(decision.limits()).extracting(usage -> usage.limit().max()).containsExactly(2L, 1_000L, 5L, 3L);
        assertThat(decision.headers(RateLimitHeaders.all())).containsEntry("X-RateLimit-Limit", "3")
                .containsEntry("x-ratelimit-limit-requests", "3")
                .doesNotContainKey("x-ratelimit-limit-tokens")
                .containsEntry("RateLimit-Policy", "\"requests\";q=3;w=3600");
    }

    @Test
    void theListenerHearsAShadowDenial() {
        List<Decision> heard = new ArrayList<>();
        BudgetResolver resolver = resolver().withShadow().withListener(new TollgateListener() {
            @Override
            public void decided(Decision decision) {
                heard.add(decision);
            }
        });

        for (int i = 0; i < 3; i++) {
            resolver.check(REQUEST);
        }

        assertThat(heard).extracting(Decision::shadowDenied).containsExactly(false, false, true);
    }

    @Test
    void aStoreThatCannotAnswerDeniesOnlyWhenAnEnforcedLimitIsAtStake() {
        store.unavailable = true;

        Decision allShadowed = resolver().withShadow().check(REQUEST);
        assertThat(allShadowed.allowed()).isTrue();
        assertThat(allShadowed.degraded()).isTrue();
        assertThat(allShadowed.shadowOutcome()).contains(Outcome.STORE_UNAVAILABLE);
        assertThat(allShadowed.shadowDeniedBy()).isEmpty();
        assertThat(allShadowed.reservation()).as("nothing taken: the charge resolves the limits").isEmpty();
        assertThat(allShadowed.headers()).isEmpty();

        Decision someEnforced = resolver().withShadow(limit -> limit.metric() == Metric.TOKENS).check(REQUEST);
        assertThat(someEnforced.outcome()).isEqualTo(Outcome.STORE_UNAVAILABLE);
        assertThat(someEnforced.shadowDenied()).isFalse();
    }

    @Test
    void shadowingNoLimitEnforcesEveryLimitAsWithoutShadow() {
        BudgetResolver resolver = resolver().withShadow().withShadow(limit -> false);

        resolver.check(REQUEST);
        resolver.check(REQUEST);
        Decision third = resolver.check(REQUEST);

        assertThat(third.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertThat(third.shadowLimits()).isEmpty();
        assertThat(CounterOps.from(store.reserved.get(0)).limits()).allSatisfy(limit ->
                assertThat(limit.max()).isLessThan(Long.MAX_VALUE));
    }

    @Test
    void refusalsBeforeTheLimitsStillRefuse() {
        Decision unknown = resolver().withShadow().check(CheckRequest.builder().virtualKey("sk-nobody").build());

        assertThat(unknown.outcome()).isEqualTo(Outcome.VIRTUAL_KEY_NOT_FOUND);
        assertThat(unknown.shadowDenied()).isFalse();
    }

    @Test
    void aNullPredicateIsRefused() {
        assertThatThrownBy(() -> resolver().withShadow(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("shadowed");
    }

    private long requestsCounted(Decision decision) {
        return used(decision.limits().get(0));
    }

    private long used(LimitUsage usage) {
        return memory.read(List.of(usage.limit())).toCompletableFuture().join().get(0).used();
    }

    /** The in-memory store, recording what each reservation sent; it can be told to answer as unavailable. */
    private static final class Recording extends ForwardingStore {
        final List<List<CounterOp>> reserved = new CopyOnWriteArrayList<>();
        volatile boolean unavailable;

        Recording(InMemoryGovernanceStore delegate) {
            super(delegate);
        }

        @Override
        public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
            reserved.add(ops);
            if (unavailable) {
                return CompletableFuture.completedFuture(ReserveResult.unavailable(0, Duration.ofSeconds(2)));
            }
            return super.reserve(ops);
        }
    }
}
