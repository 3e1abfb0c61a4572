package io.tollgate;

import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.ReserveResult;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How a store's failure policy answers reach the decision, and the listener. */
class DegradedDecisionTest {

    private static final String SECRET = "sk-degraded-1";
    private static final GovernanceConfig CONFIG = GovernanceConfig.builder()
            .virtualKey(VirtualKey.builder("vk-1").secret(SECRET)
                    .rateLimit(RateLimit.builder().requests(2, "1h").build()).build())
            .build();
    private static final CheckRequest REQUEST = CheckRequest.builder().virtualKey(SECRET).build();

    @Test
    void anUnavailableAnswerIsAServiceUnavailableDecisionWithItsRetryAfter() {
        GovernanceStore store = answering(ops -> ReserveResult.unavailable(1_000_000, Duration.ofSeconds(3)));
        Decision decision = BudgetResolver.create(store, CONFIG).check(REQUEST);

        assertThat(decision.outcome()).isEqualTo(Outcome.STORE_UNAVAILABLE);
        assertThat(decision.httpStatus()).isEqualTo(503);
        assertThat(decision.allowed()).isFalse();
        assertThat(decision.degraded()).isTrue();
        assertThat(decision.limits()).isEmpty();
        assertThat(decision.deniedBy()).isEmpty();
        assertThat(decision.reservation()).isEmpty();
        assertThat(decision.retryAfter()).contains(Duration.ofSeconds(3));
        assertThat(decision.headers()).containsExactly(java.util.Map.entry("Retry-After", "3"));
        assertThat(decision.toString()).contains("STORE_UNAVAILABLE", "degraded");
    }

    @Test
    void aDegradedAnswerDecidesAsUsualAndSaysItWasDegraded() {
        InMemoryGovernanceStore memory = InMemoryGovernanceStore.create();
        GovernanceStore store = answering(ops -> {
            ReserveResult exact = memory.reserveNow(ops);
            return ReserveResult.degraded(exact.admitted(), exact.counters(), exact.storeTimeMillis(), exact.lease());
        });
        BudgetResolver resolver = BudgetResolver.create(store, CONFIG);

        Decision first = resolver.check(REQUEST);
        assertThat(first.allowed()).isTrue();
        assertThat(first.degraded()).isTrue();
        assertThat(first.reservation()).isPresent();
        resolver.check(REQUEST);
        Decision third = resolver.check(REQUEST);
        assertThat(third.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertThat(third.degraded()).isTrue();
    }

    @Test
    void anExactAnswerIsNotDegraded() {
        Decision decision = BudgetResolver.create(InMemoryGovernanceStore.create(), CONFIG).check(REQUEST);
        assertThat(decision.allowed()).isTrue();
        assertThat(decision.degraded()).isFalse();
    }

    @Test
    void theListenerHearsEveryDecisionAndCannotBreakOne() {
        List<Decision> heard = new ArrayList<>();
        TollgateListener listener = new TollgateListener() {
            @Override
            public void decided(Decision decision) {
                heard.add(decision);
                throw new IllegalStateException("a listener bug");
            }
        };
        BudgetResolver resolver = BudgetResolver.create(InMemoryGovernanceStore.create(), CONFIG)
                .withListener(listener);

        Decision allowed = resolver.check(REQUEST);
        Decision unknown = resolver.check(CheckRequest.builder().virtualKey("sk-nobody").build());

        assertThat(allowed.allowed()).isTrue();
        assertThat(unknown.outcome()).isEqualTo(Outcome.VIRTUAL_KEY_NOT_FOUND);
        assertThat(heard).containsExactly(allowed, unknown);
    }

    @Test
    void aDegradedDecisionTellsOfNoCounterNearItsLimit() {
        InMemoryGovernanceStore memory = InMemoryGovernanceStore.create();
        List<LimitUsage> near = new ArrayList<>();
        TollgateListener listener = new TollgateListener() {
            @Override
            public void nearLimit(LimitUsage usage, double ratio) {
                near.add(usage);
            }
        };
        GovernanceStore degraded = answering(ops -> {
            ReserveResult exact = memory.reserveNow(ops);
            return ReserveResult.degraded(exact.admitted(), exact.counters(), exact.storeTimeMillis(), exact.lease());
        });

        BudgetResolver.create(degraded, CONFIG).withNearLimitRatio(0.5).withListener(listener).check(REQUEST);
        assertThat(near).isEmpty();
        BudgetResolver.create(memory, CONFIG).withNearLimitRatio(0.5).withListener(listener).check(REQUEST);
        assertThat(near).as("the same counter, exact").hasSize(1);
    }

    @Test
    void reserveResultsSayWhoAnsweredAndRefuseContradictions() {
        assertThat(new ReserveResult(true, List.of(), 1).status()).isEqualTo(ReserveResult.Status.EXACT);
        assertThat(new ReserveResult(true, List.of(), 1).isDegraded()).isFalse();
        assertThat(ReserveResult.degraded(false, List.of(), 1, null).isDegraded()).isTrue();
        assertThat(ReserveResult.degraded(false, List.of(), 1, null).isUnavailable()).isFalse();
        assertThat(ReserveResult.unavailable(1, Duration.ZERO).isUnavailable()).isTrue();
        assertThatThrownBy(() -> new ReserveResult(true, List.of(), 1, ReserveResult.Status.UNAVAILABLE,
                Duration.ofSeconds(1), null)).hasMessageContaining("ReserveResult.admitted");
        assertThatThrownBy(() -> new ReserveResult(false, List.of(), 1, ReserveResult.Status.UNAVAILABLE, null, null))
                .hasMessageContaining("ReserveResult.retryAfter");
        assertThatThrownBy(() -> new ReserveResult(false, List.of(), 1, ReserveResult.Status.DEGRADED,
                Duration.ofSeconds(1), null)).hasMessageContaining("ReserveResult.retryAfter");
    }

    /** A store whose reservations are answered by {@code answer}; nothing else is used by these tests. */
    private static GovernanceStore answering(Function<List<CounterOp>, ReserveResult> answer) {
        return new GovernanceStore() {
            @Override
            public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
                return CompletableFuture.completedFuture(answer.apply(ops));
            }

            @Override
            public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
                return CompletableFuture.completedFuture(ChargeResult.APPLIED);
            }

            @Override
            public CompletionStage<List<CounterState>> read(List<Limit> limits) {
                return CompletableFuture.completedFuture(List.of());
            }

            @Override
            public ChangeBatch changes() {
                return new ChangeBatch(List.of(), 1);
            }

            @Override
            public Duration leaseDuration() {
                return Duration.ofMinutes(5);
            }

            @Override
            public CompletionStage<Boolean> extendLease(String lease) {
                return CompletableFuture.completedFuture(false);
            }

            @Override
            public void restore(Collection<CounterSnapshot> snapshots) {
            }

            @Override
            public void close() {
            }
        };
    }
}
