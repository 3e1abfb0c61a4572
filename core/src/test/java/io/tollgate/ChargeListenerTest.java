package io.tollgate;

import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What UsageTracker tells its listener of each charge. */
class ChargeListenerTest {

    private static final String SECRET = "sk-charge-1";
    private static final GovernanceConfig CONFIG = GovernanceConfig.builder()
            .team(new Team("t-1", null, List.of(Budget.lifetime(Money.parse("10"))), null))
            .virtualKey(VirtualKey.builder("vk-1").secret(SECRET).team("t-1")
                    .rateLimit(RateLimit.builder().requests(100, "1h").tokens(10_000, "1h").build()).build())
            .build();

    private final InMemoryGovernanceStore store = InMemoryGovernanceStore.create();
    private final Heard heard = new Heard();
    private final UsageTracker tracker = UsageTracker.create(store, CONFIG).withListener(heard);

    @AfterEach
    void close() {
        store.close();
    }

    private static UsageUpdate.Builder update(String requestId) {
        return UsageUpdate.builder().virtualKey(SECRET).requestId(requestId).tokens(1_234).cost(Money.parse("0.5"));
    }

    @Test
    void aChargeIsToldWithItsLimitsTokensAndCost() {
        assertThat(tracker.charge(update("r-1").build())).isEqualTo(ChargeOutcome.CHARGED);

        assertThat(heard.events).containsExactly("CHARGED 1234 0.5");
        assertThat(heard.limits.get(0)).extracting(limit -> limit.holder().kind() + " " + limit.metric())
                .containsExactly("VIRTUAL_KEY REQUESTS", "VIRTUAL_KEY TOKENS", "TEAM COST");
    }

    @Test
    void aDuplicateIsToldAsChargingNothing() {
        tracker.charge(update("r-1").build());

        assertThat(tracker.charge(update("r-1").build())).isEqualTo(ChargeOutcome.DUPLICATE);

        assertThat(heard.events).containsExactly("CHARGED 1234 0.5", "DUPLICATE 0 0");
        assertThat(heard.limits.get(1)).hasSize(3);
    }

    @Test
    void aChunkWithNothingToChargeIsToldWithoutLimits() {
        Decision decision = BudgetResolver.create(store, CONFIG).check(CheckRequest.builder().virtualKey(SECRET).build());

        assertThat(tracker.charge(update("r-1").part(CallPart.CHUNK)
                .reservation(decision.reservation().orElseThrow()).build()))
                .isEqualTo(ChargeOutcome.NOTHING_TO_CHARGE);

        assertThat(heard.events).containsExactly("NOTHING_TO_CHARGE 0 0");
        assertThat(heard.limits.get(0)).isEmpty();
    }

    @Test
    void aFinalChunkThatGivesAnEstimateBackButCarriesNoUsageChargesNoTokens() {
        Decision decision = BudgetResolver.create(store, CONFIG)
                .check(CheckRequest.builder().virtualKey(SECRET).estimatedTokens(500).build());

        assertThat(tracker.charge(update("r-1").part(CallPart.LAST_CHUNK)
                .reservation(decision.reservation().orElseThrow()).build())).isEqualTo(ChargeOutcome.CHARGED);

        assertThat(heard.events).containsExactly("CHARGED 0 0");
    }

    @Test
    void aFailedChargeIsToldWithTheFailureTheCallerGets() {
        ForwardingStore failing = new ForwardingStore(store) {
            @Override
            public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
                return CompletableFuture.failedFuture(new StoreException("store down"));
            }
        };
        UsageTracker tracker = UsageTracker.create(failing, CONFIG).withListener(heard);

        assertThatThrownBy(() -> tracker.charge(update("r-1").build())).isInstanceOf(StoreException.class)
                .hasMessage("store down");

        assertThat(heard.events).containsExactly("FAILED StoreException store down");
        assertThat(heard.limits.get(0)).hasSize(3);
    }

    @Test
    void aListenerThatThrowsChangesNoCharge() {
        UsageTracker tracker = UsageTracker.create(store, CONFIG).withListener(new TollgateListener() {
            @Override
            public void charged(ChargeOutcome outcome, List<Limit> limits, long tokens, Money cost) {
                throw new IllegalStateException("a listener bug");
            }
        });

        assertThat(tracker.charge(update("r-1").build())).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(tracker.charge(update("r-1").build())).isEqualTo(ChargeOutcome.DUPLICATE);
    }

    private static final class Heard implements TollgateListener {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<List<Limit>> limits = new CopyOnWriteArrayList<>();

        @Override
        public void charged(ChargeOutcome outcome, List<Limit> limits, long tokens, Money cost) {
            events.add(outcome + " " + tokens + " " + cost.dollars().stripTrailingZeros().toPlainString());
            this.limits.add(limits);
        }

        @Override
        public void chargeFailed(List<Limit> limits, Throwable failure) {
            events.add("FAILED " + failure.getClass().getSimpleName() + " " + failure.getMessage());
            this.limits.add(limits);
        }
    }
}
