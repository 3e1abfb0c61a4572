package io.tollgate.benchmarks;

import io.tollgate.ChargeOutcome;
import io.tollgate.Decision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StoreFixtureTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7})
    void requestsTouchThreeCountersPerLevel(int levels) {
        try (StoreFixture fixture = StoreFixture.open(StoreFixture.MEMORY, levels)) {
            Decision decision = fixture.check();

            assertThat(decision.allowed()).isTrue();
            assertThat(decision.limits()).hasSize(3 * levels);
            assertThat(decision.limits().stream().map(usage -> usage.limit().holder()).distinct()).hasSize(levels);
            assertThat(fixture.charge("request-1")).isEqualTo(ChargeOutcome.CHARGED);
            assertThat(fixture.charge("request-1")).isEqualTo(ChargeOutcome.DUPLICATE);
        }
    }

    @Test
    void unknownKindOrLevelsAreNamed() {
        assertThatThrownBy(() -> StoreFixture.open("postgres", 1)).hasMessageContaining("\"postgres\"");
        assertThatThrownBy(() -> StoreFixture.open(StoreFixture.MEMORY, 2)).hasMessageContaining("levels: 2");
    }
}
