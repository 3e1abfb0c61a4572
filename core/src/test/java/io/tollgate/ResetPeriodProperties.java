package io.tollgate;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

class ResetPeriodProperties {

    /** Unit text and what one of it adds: months, days, millis. */
    private record Unit(String text, int months, int days, long millis) {}

    private static final List<Unit> UNITS = List.of(
            new Unit("ms", 0, 0, 1), new Unit("s", 0, 0, 1_000), new Unit("m", 0, 0, 60_000),
            new Unit("h", 0, 0, 3_600_000), new Unit("d", 0, 1, 0), new Unit("w", 0, 7, 0),
            new Unit("M", 1, 0, 0), new Unit("Q", 3, 0, 0), new Unit("Y", 12, 0, 0));

    private record Component(int count, Unit unit) {}

    @Property
    void canonicalTextReadsBackEqual(@ForAll("periods") ResetPeriod period) {
        assertThat(ResetPeriod.parse(period.toString())).isEqualTo(period);
        assertThat(period.toString()).matches("[0-9]+[A-Za-z]+([0-9]+[A-Za-z]+)*");
    }

    @Property
    void componentsAddUp(@ForAll("components") List<Component> components) {
        StringBuilder text = new StringBuilder();
        int months = 0;
        int days = 0;
        long millis = 0;
        for (Component c : components) {
            text.append(c.count()).append(c.unit().text());
            months += c.count() * c.unit().months();
            days += c.count() * c.unit().days();
            millis += c.count() * c.unit().millis();
        }
        assertThat(ResetPeriod.parse(text.toString())).isEqualTo(ResetPeriod.of(months, days, millis));
    }

    @Property
    void decimalSecondsAreExact(@ForAll @LongRange(min = 1, max = 1_000_000_000_000L) long millis) {
        String seconds = BigDecimal.valueOf(millis, 3).toPlainString();
        assertThat(ResetPeriod.parse(seconds + "s")).isEqualTo(ResetPeriod.of(0, 0, millis));
    }

    @Property
    void fractionalDaysSpillIntoMillis(@ForAll @LongRange(min = 1, max = 100_000) long quarterDays) {
        ResetPeriod period = ResetPeriod.parse(BigDecimal.valueOf(quarterDays * 25, 2).toPlainString() + "d");
        assertThat(period.days()).isEqualTo((int) (quarterDays / 4));
        assertThat(period.millis()).isEqualTo(quarterDays % 4 * 21_600_000L);
    }

    @Provide
    Arbitrary<ResetPeriod> periods() {
        Arbitrary<Integer> months = Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.integers().between(0, 280_000));
        Arbitrary<Integer> days = Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.integers().between(0, 8_000_000));
        Arbitrary<Long> millis = Arbitraries.oneOf(Arbitraries.just(0L),
                Arbitraries.longs().between(0, 700_000_000_000_000L));
        return Combinators.combine(months, days, millis)
                .filter((m, d, ms) -> m > 0 || d > 0 || ms > 0)
                .as(ResetPeriod::of);
    }

    @Provide
    Arbitrary<List<Component>> components() {
        Arbitrary<Component> component = Combinators.combine(
                Arbitraries.integers().between(1, 10_000), Arbitraries.of(UNITS)).as(Component::new);
        return component.list().ofMinSize(1).ofMaxSize(6);
    }
}
