package io.tollgate.micrometer;

import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tollgate.Budget;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.HolderKind;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.Money;
import io.tollgate.RateLimit;
import io.tollgate.ResetPeriod;
import io.tollgate.Team;
import io.tollgate.TollgateListener.StoreState;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.memory.InMemoryGovernanceStore;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class MicrometerListenerTest {

    private final MockClock clock = new MockClock();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
    private final MicrometerListener listener = MicrometerListener.create(registry);

    @Test
    void decisionsAreCountedByOutcomeAndByTheKindOfTheLimitThatDenied() {
        GovernanceConfig config = GovernanceConfig.builder()
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-1")
                        .rateLimit(RateLimit.builder().requests(2, "1h").build()).build())
                .build();
        try (InMemoryGovernanceStore store = InMemoryGovernanceStore.create()) {
            BudgetResolver resolver = BudgetResolver.create(store, () -> config, Clock.systemUTC())
                    .withListener(listener);
            CheckRequest request = CheckRequest.builder().virtualKey("sk-1").build();
            for (int i = 0; i < 5; i++) {
                resolver.check(request);
            }
            resolver.check(CheckRequest.builder().virtualKey("sk-unknown").build());
        }

        assertThat(registry.get("tollgate.decisions").tags("outcome", "allowed", "holder_kind", "none",
                "degraded", "false").counter().count()).isEqualTo(2);
        assertThat(registry.get("tollgate.decisions").tags("outcome", "request_limited", "holder_kind",
                "virtual_key").counter().count()).isEqualTo(3);
        assertThat(registry.get("tollgate.decisions").tags("outcome", "virtual_key_not_found").counter().count())
                .isEqualTo(1);
    }

    @Test
    void shadowDenialsAreCountedByTheOutcomeAndLimitThatWouldHaveDenied() {
        GovernanceConfig config = GovernanceConfig.builder()
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-1")
                        .rateLimit(RateLimit.builder().requests(2, "1h").build()).build())
                .build();
        try (InMemoryGovernanceStore store = InMemoryGovernanceStore.create()) {
            BudgetResolver resolver = BudgetResolver.create(store, () -> config, Clock.systemUTC()).withShadow()
                    .withListener(listener);
            for (int i = 0; i < 5; i++) {
                resolver.check(CheckRequest.builder().virtualKey("sk-1").build());
            }
        }

        assertThat(registry.get("tollgate.decisions").tags("outcome", "allowed").counter().count()).isEqualTo(5);
        assertThat(registry.get("tollgate.shadow.denials").tags("outcome", "request_limited", "holder_kind",
                "virtual_key", "metric", "requests").counter().count()).isEqualTo(3);
    }

    @Test
    void countersNearTheirLimitAreCountedOncePerWindowByKindAndMetric() {
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("t-1", null, List.of(), RateLimit.builder().tokens(100, "1h").build()))
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-1").team("t-1")
                        .rateLimit(RateLimit.builder().requests(5, "1h").build()).build())
                .build();
        try (InMemoryGovernanceStore store = InMemoryGovernanceStore.create()) {
            BudgetResolver resolver = BudgetResolver.create(store, () -> config, Clock.systemUTC())
                    .withListener(listener);
            for (int i = 0; i < 5; i++) {
                resolver.check(CheckRequest.builder().virtualKey("sk-1").estimatedTokens(10).build());
            }
        }

        assertThat(registry.get("tollgate.limit.near").tags("holder_kind", "virtual_key", "metric", "requests")
                .counter().count()).isEqualTo(1);
        assertThat(registry.find("tollgate.limit.near").tags("holder_kind", "team").counter())
                .as("50 of 100 tokens held: not near").isNull();
    }

    @Test
    void slicesOfLeasedAdmissionAreCountedByKindAndMetricWithTheHeldGaugeAndTheChecksByPath() {
        Limit team = new Limit(Holder.team("t-1"), Metric.REQUESTS, 1_000, WindowSpec.rolling(ResetPeriod.parse("1h")));
        listener.sliceTaken(team, 40);
        listener.sliceTaken(team, 10);
        listener.sliceReturned(team, 7);
        listener.slicesHeld(43);
        listener.leasedCheck(true);
        listener.leasedCheck(true);
        listener.leasedCheck(false);

        assertThat(registry.get("tollgate.slices.taken").tags("holder_kind", "team", "metric", "requests").counter()
                .count()).isEqualTo(50);
        assertThat(registry.get("tollgate.slices.returned").tags("holder_kind", "team").counter().count())
                .isEqualTo(7);
        assertThat(registry.get("tollgate.slices.held").gauge().value()).isEqualTo(43);
        assertThat(registry.get("tollgate.slices.checks").tag("path", "local").counter().count()).isEqualTo(2);
        assertThat(registry.get("tollgate.slices.checks").tag("path", "shared").counter().count()).isEqualTo(1);
    }

    @Test
    void holderIdsAreTagsOnlyForTheKindsNamed() {
        MicrometerListener withIds = MicrometerListener.builder(registry).holderIds(HolderKind.CUSTOMER).build();
        GovernanceConfig config = GovernanceConfig.builder()
                .customer(new Customer("c-1", List.of(), RateLimit.builder().requests(1, "1h").build()))
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-1").customer("c-1")
                        .rateLimit(RateLimit.builder().requests(10, "1h").build()).build())
                .build();
        try (InMemoryGovernanceStore store = InMemoryGovernanceStore.create()) {
            BudgetResolver resolver = BudgetResolver.create(store, () -> config, Clock.systemUTC())
                    .withNearLimitRatio(0.1).withListener(withIds);
            resolver.check(CheckRequest.builder().virtualKey("sk-1").build());
            resolver.check(CheckRequest.builder().virtualKey("sk-1").build());
        }

        assertThat(registry.get("tollgate.decisions").tags("outcome", "request_limited", "holder_kind", "customer",
                "holder_id", "c-1").counter().count()).isEqualTo(1);
        assertThat(registry.get("tollgate.decisions").tags("outcome", "allowed", "holder_kind", "none",
                "holder_id", "none").counter().count()).isEqualTo(1);
        assertThat(registry.get("tollgate.limit.near").tags("holder_kind", "virtual_key", "holder_id", "none")
                .counter().count()).isEqualTo(1);
        assertThat(registry.get("tollgate.limit.near").tags("holder_kind", "customer", "holder_id", "c-1")
                .counter().count()).isEqualTo(1);
    }

    @Test
    void chargesAreCountedByOutcomeAndTheirTokensAndCostByHolderKind() {
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("t-1", null, List.of(Budget.lifetime(Money.parse("10"))), null))
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-1").team("t-1")
                        .rateLimit(RateLimit.builder().requests(100, "1h").tokens(10_000, "1h").build()).build())
                .build();
        try (InMemoryGovernanceStore store = InMemoryGovernanceStore.create()) {
            UsageTracker tracker = UsageTracker.create(store, config).withListener(listener);
            UsageUpdate update = UsageUpdate.builder().virtualKey("sk-1").requestId("r-1").tokens(1_234)
                    .cost(Money.parse("0.25")).build();
            tracker.charge(update);
            tracker.charge(update);
            tracker.charge(UsageUpdate.builder().virtualKey("sk-1").requestId("r-2").tokens(66).build());
        }
        listener.chargeFailed(List.of(), new IllegalStateException("store down"));

        assertThat(registry.get("tollgate.charges").tags("outcome", "charged").counter().count()).isEqualTo(2);
        assertThat(registry.get("tollgate.charges").tags("outcome", "duplicate").counter().count()).isEqualTo(1);
        assertThat(registry.get("tollgate.charges").tags("outcome", "failed").counter().count()).isEqualTo(1);
        assertThat(registry.get("tollgate.charged.tokens").tags("holder_kind", "virtual_key").counter().count())
                .as("the duplicate charged nothing").isEqualTo(1_300);
        assertThat(registry.get("tollgate.charged.tokens").tags("holder_kind", "team").counter().count())
                .isEqualTo(1_300);
        assertThat(registry.get("tollgate.charged.cost").tags("holder_kind", "team").counter().count())
                .isEqualTo(0.25);
    }

    @Test
    void chargedTokensOfOneHolderAreASeriesWhenItsKindIsNamed() {
        MicrometerListener withIds = MicrometerListener.builder(registry).holderIds(HolderKind.TEAM).build();
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("t-1", null, List.of(), RateLimit.builder().tokens(10_000, "1h").build()))
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-1").team("t-1").build())
                .build();
        try (InMemoryGovernanceStore store = InMemoryGovernanceStore.create()) {
            UsageTracker.create(store, config).withListener(withIds)
                    .charge(UsageUpdate.builder().virtualKey("sk-1").requestId("r-1").tokens(40).build());
        }

        assertThat(registry.get("tollgate.charged.tokens").tags("holder_kind", "team", "holder_id", "t-1").counter()
                .count()).isEqualTo(40);
    }

    @Test
    void storeCallsAreTimedPerOperationAndResult() {
        listener.storeCall("reserve", TimeUnit.MILLISECONDS.toNanos(3), true);
        listener.storeCall("reserve", TimeUnit.MILLISECONDS.toNanos(5), true);
        listener.storeCall("charge", TimeUnit.MILLISECONDS.toNanos(500), false);

        assertThat(registry.get("tollgate.store.latency").tags("operation", "reserve", "result", "success").timer()
                .totalTime(TimeUnit.MILLISECONDS)).isEqualTo(8);
        assertThat(registry.get("tollgate.store.latency").tags("operation", "charge", "result", "failure").timer()
                .count()).isEqualTo(1);
    }

    @Test
    void circuitStateAndBufferGaugesFollowTheLatestEvent() {
        listener.storeStateChanged(StoreState.UNAVAILABLE);
        listener.usageBuffered(3, 3);
        listener.usageReplayed(2, 1);
        listener.usageDropped(1, 0);

        assertThat(registry.get("tollgate.store.circuit.state").gauge().value()).isEqualTo(2);
        assertThat(registry.get("tollgate.store.circuit.transitions").tags("state", "unavailable").counter().count())
                .isEqualTo(1);
        assertThat(registry.get("tollgate.usage.buffer.size").gauge().value()).isZero();
        assertThat(registry.get("tollgate.usage.buffered").counter().count()).isEqualTo(3);
        assertThat(registry.get("tollgate.usage.replayed").counter().count()).isEqualTo(2);
        assertThat(registry.get("tollgate.usage.dropped").counter().count()).isEqualTo(1);
    }

    @Test
    void flushLagIsTheTimeSinceTheLastSuccessfulFlushOnTheRegistryClock() {
        assertThat(registry.get("tollgate.flush.lag").gauge().value()).isNaN();

        Instant flushedAt = Instant.ofEpochMilli(clock.wallTime());
        listener.flushed(true, flushedAt, 0);
        clock.add(Duration.ofSeconds(12));
        listener.flushed(false, flushedAt, 40);

        assertThat(registry.get("tollgate.flush.lag").gauge().value()).isEqualTo(12.0);
        assertThat(registry.get("tollgate.flush.pending").gauge().value()).isEqualTo(40);
        assertThat(registry.get("tollgate.flush.attempts").tags("result", "failure").counter().count()).isEqualTo(1);
    }
}
