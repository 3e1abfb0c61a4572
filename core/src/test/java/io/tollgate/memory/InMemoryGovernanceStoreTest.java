package io.tollgate.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.GovernanceStoreContract;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryGovernanceStoreTest extends GovernanceStoreContract {

    @Override
    protected GovernanceStore createStore(Clock clock) {
        return InMemoryGovernanceStore.builder().clock(clock).build();
    }

    @Test
    void endedWindowIsDroppedOneMinuteAfterItEnds() {
        Limit limit = new Limit(Holder.team(unique() + "team"), Metric.TOKENS, 100, HOUR);
        store.charge("r1", List.of(CounterOp.add(limit, 5)));
        clock.advance(Duration.ofMinutes(30).plusSeconds(30));
        store.charge("r2", List.of(CounterOp.add(limit, 1)));
        assertThat(store.changes().counters()).hasSize(2);

        clock.advance(Duration.ofSeconds(30));
        store.charge("r3", List.of(CounterOp.add(limit, 1)));
        assertThat(store.changes().counters()).singleElement().satisfies(s -> assertThat(s.value()).isEqualTo(2));
    }

    @Test
    void idempotencyKeyIsRememberedForItsLifetimeAndForgottenByTwiceIt() {
        store.close();
        store = InMemoryGovernanceStore.builder().clock(clock).idempotencyKeyLifetime(Duration.ofMinutes(5)).build();
        Limit limit = new Limit(Holder.team(unique() + "team"), Metric.TOKENS, 100, HOUR);
        assertThat(join(store.charge("r1", List.of(CounterOp.add(limit, 5))))).isEqualTo(ChargeResult.APPLIED);
        clock.advance(Duration.ofMinutes(4));
        assertThat(join(store.charge("r1", List.of(CounterOp.add(limit, 5))))).isEqualTo(ChargeResult.DUPLICATE);
        clock.advance(Duration.ofMinutes(6));
        assertThat(join(store.charge("r1", List.of(CounterOp.add(limit, 5))))).isEqualTo(ChargeResult.APPLIED);
    }
}
