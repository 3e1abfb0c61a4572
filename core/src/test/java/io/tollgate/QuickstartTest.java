package io.tollgate;

import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.GovernanceStore;
import org.junit.jupiter.api.Test;

import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's quickstart, as written there, so that it keeps compiling and doing what it says. */
class QuickstartTest {

    @Test
    void quickstartChecksAndCharges() {
        // --- README quickstart begins
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("search", null, List.of(Budget.calendar(Money.parse("100"), "1M", ZoneOffset.UTC)), null))
                .virtualKey(VirtualKey.builder("vk-search")
                        .secret("sk-live-123")
                        .team("search")
                        .rateLimit(RateLimit.builder().requests(60, "1m").tokens(100_000, "1m").build())
                        .build())
                .build();

        GovernanceStore store = InMemoryGovernanceStore.create(); // or RedisGovernanceStore.builder(redisClient).build()
        BudgetResolver resolver = BudgetResolver.create(store, config);
        UsageTracker tracker = UsageTracker.create(store, config);

        Decision decision = resolver.check(CheckRequest.builder()
                .virtualKey("sk-live-123").provider("openai").model("gpt-4o").build());
        if (!decision.allowed()) {
            // answer decision.httpStatus() with decision.headers(), e.g. 429 with Retry-After
        }
        tracker.charge(UsageUpdate.builder()
                .virtualKey("sk-live-123").provider("openai").model("gpt-4o")
                .requestId("req-1").tokens(1_234).cost(Money.parse("0.0042"))
                .reservation(decision.reservation().orElse(null))
                .build());
        // --- README quickstart ends

        assertThat(decision.allowed()).isTrue();
        assertThat(decision.limits()).hasSize(3);
        assertThat(store.read(decision.limits().stream().map(LimitUsage::limit).toList())
                .toCompletableFuture().join())
                .extracting(state -> state.used())
                .containsExactly(1L, 1_234L, Money.parse("0.0042").nanos());
    }
}
