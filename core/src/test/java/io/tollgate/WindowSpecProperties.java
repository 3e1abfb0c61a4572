package io.tollgate;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class WindowSpecProperties {

    private static final long Y1990 = 631152000000L; // 1990-01-01T00:00:00Z
    private static final long Y2100 = 4133980799999L; // 2100-12-31T23:59:59.999Z
    private static final long Y1900 = -2208988800000L; // 1900-01-01T00:00:00Z
    private static final long Y2200 = 7258118400000L; // 2200-01-01T00:00:00Z

    private static final List<ZoneId> ZONES = List.of(ZoneOffset.UTC, ZoneId.of("UTC"), ZoneId.of("Europe/Paris"),
            ZoneId.of("America/New_York"), ZoneId.of("Australia/Lord_Howe"), ZoneId.of("America/Sao_Paulo"),
            ZoneId.of("Asia/Beirut"), ZoneId.of("Pacific/Apia"), ZoneId.of("Asia/Kolkata"), ZoneId.of("America/St_Johns"));

    @Property(tries = 3000)
    void windowContainsTheInstantAndTilesWithItsNeighbours(@ForAll("specs") WindowSpec spec,
            @ForAll @LongRange(min = Y1990, max = Y2100) long t) {
        Window w = spec.windowAt(t);
        assertThat(w.startMillis()).isLessThanOrEqualTo(t);
        assertThat(w.endMillis()).isGreaterThan(t);
        Window next = spec.windowAt(w.endMillis());
        Window previous = spec.windowAt(w.startMillis() - 1);
        assertThat(next.startMillis()).isEqualTo(w.endMillis());
        assertThat(previous.endMillis()).isEqualTo(w.startMillis());
        // the cache must hand back the same window as a fresh computation
        assertThat(spec.windowAt(t)).isEqualTo(w).isEqualTo(WindowSpec.parseId(spec.id()).windowAt(t));
    }

    @Property
    void windowsAroundAreContiguous(@ForAll("specs") WindowSpec spec,
            @ForAll @LongRange(min = Y1990, max = Y2100) long t,
            @ForAll @IntRange(max = 5) int before, @ForAll @IntRange(max = 5) int after) {
        List<Window> windows = spec.windowsAround(t, before, after);
        assertThat(windows).hasSize(before + 1 + after);
        assertThat(windows.get(before)).isEqualTo(spec.windowAt(t));
        for (int i = 1; i < windows.size(); i++) {
            assertThat(windows.get(i).startMillis()).isEqualTo(windows.get(i - 1).endMillis());
        }
    }

    @Property
    void rollingBoundariesAreAnchorPlusWholePeriods(@ForAll("rollingSpecs") WindowSpec spec,
            @ForAll @LongRange(min = Y1990, max = Y2100) long t) {
        Window w = spec.windowAt(t);
        ResetPeriod period = spec.period();
        if (spec.isFixedLength()) {
            assertThat(Math.floorMod(w.startMillis() - spec.anchorMillis(), spec.fixedLengthMillis())).isZero();
            assertThat(w.endMillis() - w.startMillis()).isEqualTo(spec.fixedLengthMillis());
        } else {
            // rebuild the boundary the documented way for the few k near the estimate
            OffsetDateTime anchor = OffsetDateTime.ofInstant(spec.anchor(), ZoneOffset.UTC);
            long k = Math.round((double) (w.startMillis() - spec.anchorMillis()) / period.approximateMillis());
            boolean found = false;
            for (long j = k - 2; j <= k + 2; j++) {
                Instant expected = anchor.plusMonths(j * period.months()).plusDays(j * period.days())
                        .plus(j * period.millis(), ChronoUnit.MILLIS).toInstant();
                found |= expected.equals(w.start());
            }
            assertThat(found).as("%s starts at anchor + k periods", w).isTrue();
        }
        assertThat(spec.windowAt(spec.anchorMillis()).startMillis()).isEqualTo(spec.anchorMillis());
    }

    @Property
    void calendarWindowsStartAtLocalMidnightOfTheirUnit(@ForAll("calendarSpecs") WindowSpec spec,
            @ForAll @LongRange(min = Y1990, max = Y2100) long t) {
        Window w = spec.windowAt(t);
        ZoneId zone = spec.zone();
        LocalDate first = w.start().atZone(zone).toLocalDate();
        assertThat(first.atStartOfDay(zone).toInstant()).isEqualTo(w.start());
        ResetPeriod period = spec.period();
        switch (period.toString()) {
            case "1w" -> assertThat(first.getDayOfWeek()).isEqualTo(DayOfWeek.MONDAY);
            case "1M" -> assertThat(first.getDayOfMonth()).isEqualTo(1);
            case "3M" -> assertThat(first.getDayOfMonth() == 1 && (first.getMonthValue() - 1) % 3 == 0).isTrue();
            case "1Y" -> assertThat(first.getDayOfYear()).isEqualTo(1);
            default -> assertThat(period.toString()).isEqualTo("1d");
        }
        ZonedDateTime end = first.plusMonths(period.months()).plusDays(period.days()).atStartOfDay(zone);
        assertThat(w.end()).contains(end.toInstant());
    }

    @Property
    void idsReadBackEqualAndUseKeyCharacters(@ForAll("anySpecs") WindowSpec spec) {
        assertThat(spec.id()).matches("[A-Za-z0-9@:/_+.-]+");
        assertThat(WindowSpec.parseId(spec.id())).isEqualTo(spec).hasSameHashCodeAs(spec);
        assertThat(spec).hasToString(spec.id());
    }

    @Provide
    Arbitrary<WindowSpec> specs() {
        return Arbitraries.oneOf(rollingSpecs(), calendarSpecs());
    }

    @Provide
    Arbitrary<WindowSpec> anySpecs() {
        return Arbitraries.oneOf(rollingSpecs(), calendarSpecs(), Arbitraries.just(WindowSpec.unbounded()));
    }

    @Provide
    Arbitrary<WindowSpec> rollingSpecs() {
        Arbitrary<ResetPeriod> fixed = Arbitraries.oneOf(
                Arbitraries.longs().between(1, 1_000),
                Arbitraries.longs().between(1, 100_000_000_000L))
                .map(ms -> ResetPeriod.of(0, 0, ms));
        Arbitrary<ResetPeriod> withDays = Combinators.combine(
                Arbitraries.integers().between(1, 400), Arbitraries.longs().between(0, 86_399_999))
                .as((d, ms) -> ResetPeriod.of(0, d, ms));
        Arbitrary<ResetPeriod> withMonths = Combinators.combine(
                Arbitraries.integers().between(1, 60), Arbitraries.integers().between(0, 40),
                Arbitraries.longs().between(0, 86_399_999))
                .as(ResetPeriod::of);
        Arbitrary<Instant> anchors = Arbitraries.oneOf(
                Arbitraries.just(0L), Arbitraries.longs().between(Y1900, Y2200))
                .map(Instant::ofEpochMilli);
        return Combinators.combine(Arbitraries.oneOf(fixed, withDays, withMonths), anchors).as(WindowSpec::rolling);
    }

    @Provide
    Arbitrary<WindowSpec> calendarSpecs() {
        return Combinators.combine(Arbitraries.of("1d", "1w", "1M", "1Q", "1Y").map(ResetPeriod::parse),
                Arbitraries.of(ZONES)).as(WindowSpec::calendar);
    }
}
