package io.tollgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class WindowSpecTest {

    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    private static ResetPeriod p(String text) {
        return ResetPeriod.parse(text);
    }

    private static Instant utc(String localDateTime) {
        return LocalDateTime.parse(localDateTime).toInstant(ZoneOffset.UTC);
    }

    private static Duration length(Window w) {
        return Duration.ofMillis(w.endMillis() - w.startMillis());
    }

    // ---- Window

    @Test
    void windowIsHalfOpen() {
        Window w = new Window(10, 20);
        assertThat(w.contains(9)).isFalse();
        assertThat(w.contains(10)).isTrue();
        assertThat(w.contains(19)).isTrue();
        assertThat(w.contains(20)).isFalse();
        assertThat(w.isUnbounded()).isFalse();
        assertThat(w.start()).isEqualTo(Instant.ofEpochMilli(10));
        assertThat(w.end()).contains(Instant.ofEpochMilli(20));
    }

    @Test
    void windowMustStartBeforeItEnds() {
        assertThatThrownBy(() -> new Window(5, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Window(6, 5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unboundedWindowHasNoEnd() {
        Window w = new Window(0, Long.MAX_VALUE);
        assertThat(w.isUnbounded()).isTrue();
        assertThat(w.end()).isEmpty();
        assertThat(w.contains(Long.MAX_VALUE)).isTrue();
    }

    // ---- rolling

    @Test
    void rollingFromTheEpoch() {
        WindowSpec hourly = WindowSpec.rolling(p("1h"));
        Window w = hourly.windowAt(utc("2025-03-14T12:34:56"));
        assertThat(w.start()).isEqualTo(utc("2025-03-14T12:00:00"));
        assertThat(w.end()).contains(utc("2025-03-14T13:00:00"));
        assertThat(hourly.isFixedLength()).isTrue();
        assertThat(hourly.fixedLengthMillis()).isEqualTo(3_600_000);
        assertThat(hourly.anchor()).isEqualTo(Instant.EPOCH);
        assertThat(hourly.anchorMillis()).isZero();
        assertThat(hourly.alignment()).isEqualTo(WindowSpec.Alignment.ROLLING);
        assertThat(hourly.zone()).isNull();
    }

    @Test
    void rollingFromAnAnchor() {
        WindowSpec spec = WindowSpec.rolling(p("1h30m"), utc("2025-01-01T00:10:00"));
        assertThat(spec.windowAt(utc("2025-01-01T03:00:00")).start()).isEqualTo(utc("2025-01-01T01:40:00"));
        // before the anchor: negative window numbers
        assertThat(spec.windowAt(utc("2025-01-01T00:09:59")).start()).isEqualTo(utc("2024-12-31T22:40:00"));
        assertThat(spec.windowAt(utc("2025-01-01T00:10:00")).start()).isEqualTo(utc("2025-01-01T00:10:00"));
    }

    @Test
    void rollingDaysAre24Hours() {
        WindowSpec spec = WindowSpec.rolling(p("1d12h"));
        assertThat(spec.isFixedLength()).isTrue();
        assertThat(spec.fixedLengthMillis()).isEqualTo(36 * 3_600_000L);
        assertThat(spec.windowAt(0).endMillis()).isEqualTo(36 * 3_600_000L);
    }

    @Test
    void rollingMonthsUseUtcCalendarArithmeticFromTheAnchor() {
        WindowSpec monthly = WindowSpec.rolling(p("1M"), utc("2025-01-31T10:00:00"));
        assertThat(monthly.isFixedLength()).isFalse();
        assertThatThrownBy(monthly::fixedLengthMillis).isInstanceOf(IllegalStateException.class);
        List<Window> windows = monthly.windowsAround(utc("2025-02-15T00:00:00").toEpochMilli(), 1, 2);
        assertThat(windows).extracting(Window::start).containsExactly(
                utc("2024-12-31T10:00:00"), utc("2025-01-31T10:00:00"), utc("2025-02-28T10:00:00"),
                utc("2025-03-31T10:00:00"));
        assertThat(windows.get(3).end()).contains(utc("2025-04-30T10:00:00"));
    }

    @Test
    void rollingMonthsAndDaysStepTogether() {
        WindowSpec spec = WindowSpec.rolling(p("1M1d"), utc("2025-01-01T00:00:00"));
        assertThat(spec.windowAt(utc("2025-03-10T00:00:00")).start()).isEqualTo(utc("2025-03-03T00:00:00"));
        assertThat(spec.windowAt(utc("2024-12-01T00:00:00")).start()).isEqualTo(utc("2024-11-30T00:00:00"));
    }

    @Test
    void rollingFarFromTheAnchorIsClippedNotWrapped() {
        WindowSpec spec = WindowSpec.rolling(p("7d"), Instant.ofEpochMilli(ResetPeriod.MAX_MILLIS - 5));
        Window w = spec.windowAt(Long.MIN_VALUE + 3);
        assertThat(w.contains(Long.MIN_VALUE + 3)).isTrue();
        Window last = WindowSpec.rolling(p("1h")).windowAt(Long.MAX_VALUE);
        assertThat(last.isUnbounded()).isTrue();
        assertThat(last.contains(Long.MAX_VALUE)).isTrue();
        Window first = WindowSpec.rolling(p("1Y")).windowAt(Long.MIN_VALUE);
        assertThat(first.startMillis()).isEqualTo(Long.MIN_VALUE);
    }

    // ---- calendar

    @ParameterizedTest(name = "{0} has {1} days")
    @CsvSource({"2027-01-15, 31", "2027-02-15, 28", "2028-02-15, 29", "2100-02-15, 28", "2000-02-15, 29",
            "2027-04-15, 30", "2027-12-31, 31"})
    void calendarMonthsHaveTheirTrueLengthInUtc(LocalDate day, int days) {
        Window w = WindowSpec.calendar(p("1M"), ZoneOffset.UTC).windowAt(day.atStartOfDay(ZoneOffset.UTC).toInstant());
        assertThat(w.start()).isEqualTo(day.withDayOfMonth(1).atStartOfDay(ZoneOffset.UTC).toInstant());
        assertThat(length(w)).isEqualTo(Duration.ofDays(days));
    }

    @ParameterizedTest(name = "quarter of {0} starts {1} and has {2} days")
    @CsvSource({"2027-02-15, 2027-01-01, 90", "2028-03-31, 2028-01-01, 91", "2027-04-01, 2027-04-01, 91",
            "2027-09-30, 2027-07-01, 92", "2027-11-11, 2027-10-01, 92"})
    void calendarQuarters(LocalDate day, LocalDate start, int days) {
        WindowSpec quarterly = WindowSpec.calendar(p("1Q"), ZoneOffset.UTC);
        Window w = quarterly.windowAt(day.atTime(12, 0).toInstant(ZoneOffset.UTC));
        assertThat(w.start()).isEqualTo(start.atStartOfDay(ZoneOffset.UTC).toInstant());
        assertThat(length(w)).isEqualTo(Duration.ofDays(days));
    }

    @Test
    void calendarYears() {
        WindowSpec yearly = WindowSpec.calendar(p("1Y"), ZoneOffset.UTC);
        assertThat(length(yearly.windowAt(utc("2027-06-01T00:00:00")))).isEqualTo(Duration.ofDays(365));
        assertThat(length(yearly.windowAt(utc("2028-06-01T00:00:00")))).isEqualTo(Duration.ofDays(366));
        assertThat(yearly.windowAt(utc("2028-06-01T00:00:00")).start()).isEqualTo(utc("2028-01-01T00:00:00"));
    }

    @Test
    void dstDaysInParisLast23And25Hours() {
        WindowSpec daily = WindowSpec.calendar(p("1d"), PARIS);
        Window spring = daily.windowAt(LocalDateTime.parse("2025-03-30T12:00").atZone(PARIS).toInstant());
        assertThat(length(spring)).isEqualTo(Duration.ofHours(23));
        assertThat(spring.start()).isEqualTo(LocalDate.parse("2025-03-30").atStartOfDay(PARIS).toInstant());
        Window autumn = daily.windowAt(LocalDateTime.parse("2025-10-26T12:00").atZone(PARIS).toInstant());
        assertThat(length(autumn)).isEqualTo(Duration.ofHours(25));
        Window plain = daily.windowAt(LocalDateTime.parse("2025-10-27T00:00").atZone(PARIS).toInstant());
        assertThat(length(plain)).isEqualTo(Duration.ofHours(24));
        assertThat(plain.start()).isEqualTo(Instant.parse("2025-10-26T23:00:00Z"));
    }

    @Test
    void lordHoweShiftsByHalfAnHour() {
        ZoneId lordHowe = ZoneId.of("Australia/Lord_Howe");
        WindowSpec daily = WindowSpec.calendar(p("1d"), lordHowe);
        assertThat(length(daily.windowAt(LocalDate.parse("2025-10-05").atTime(12, 0).atZone(lordHowe).toInstant())))
                .isEqualTo(Duration.ofMinutes(23 * 60 + 30));
        assertThat(length(daily.windowAt(LocalDate.parse("2025-04-06").atTime(12, 0).atZone(lordHowe).toInstant())))
                .isEqualTo(Duration.ofMinutes(24 * 60 + 30));
    }

    @Test
    void midnightInADstGapStartsTheDayAtTheFirstLocalTime() {
        // Sao Paulo skipped 00:00-01:00 on 2018-11-04
        ZoneId saoPaulo = ZoneId.of("America/Sao_Paulo");
        Window w = WindowSpec.calendar(p("1d"), saoPaulo)
                .windowAt(LocalDateTime.parse("2018-11-04T12:00").atZone(saoPaulo).toInstant());
        assertThat(w.start().atZone(saoPaulo).toLocalDateTime()).isEqualTo(LocalDateTime.parse("2018-11-04T01:00"));
        assertThat(length(w)).isEqualTo(Duration.ofHours(23));
    }

    @Test
    void aFallBackAcrossMidnightBelongsToTheNextDay() {
        // St John's set clocks back from 00:01 to 23:01 on 2006-10-29: 23:01-00:00 of the 28th happened twice
        ZoneId stJohns = ZoneId.of("America/St_Johns");
        WindowSpec daily = WindowSpec.calendar(p("1d"), stJohns);
        Instant midnight = LocalDate.parse("2006-10-29").atStartOfDay(stJohns).toInstant();
        Instant secondPass = midnight.plus(Duration.ofMinutes(30));
        assertThat(secondPass.atZone(stJohns).toLocalDate()).isEqualTo(LocalDate.parse("2006-10-28"));
        Window w = daily.windowAt(secondPass);
        assertThat(w.start()).isEqualTo(midnight);
        assertThat(length(w)).isEqualTo(Duration.ofHours(25));
        assertThat(length(daily.windowAt(midnight.minusMillis(1)))).isEqualTo(Duration.ofHours(24));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2024-12-30", "2025-01-01", "2025-01-05"})
    void weeksStartOnMonday(LocalDate day) {
        WindowSpec weekly = WindowSpec.calendar(p("1w"), PARIS);
        Window w = weekly.windowAt(day.atTime(23, 59).atZone(PARIS).toInstant());
        assertThat(w.start()).isEqualTo(LocalDate.parse("2024-12-30").atStartOfDay(PARIS).toInstant());
        assertThat(w.start().atZone(PARIS).getDayOfWeek()).isEqualTo(DayOfWeek.MONDAY);
        assertThat(w.end()).contains(LocalDate.parse("2025-01-06").atStartOfDay(PARIS).toInstant());
    }

    @Test
    void calendarAcceptsExactlyTheCalendarUnits() {
        for (String ok : List.of("1d", "1w", "7d", "1M", "1Q", "3M", "1Y", "12M")) {
            assertThat(WindowSpec.calendar(p(ok), PARIS).alignment()).isEqualTo(WindowSpec.Alignment.CALENDAR);
        }
        assertThatThrownBy(() -> WindowSpec.calendar(p("2h"), PARIS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("calendar alignment needs a period of 1d, 1w, 1M, 1Q or 1Y, not \"2h\"");
        for (String bad : List.of("24h", "2d", "2w", "1d1h", "2M", "6M", "2Y", "1M1d", "1Y1ms")) {
            assertThatThrownBy(() -> WindowSpec.calendar(p(bad), PARIS))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("calendar alignment needs");
        }
    }

    @Test
    void everyZoneTilesDaysAcrossEveryTransition() {
        // catches zones whose clocks jump across midnight, such as Alaska's lost day in 1867
        Instant from = Instant.parse("1800-01-01T00:00:00Z");
        Instant to = Instant.parse("2040-01-01T00:00:00Z");
        for (String zoneId : ZoneId.getAvailableZoneIds()) {
            ZoneId zone = ZoneId.of(zoneId);
            if (!zoneId.matches("[A-Za-z0-9@:/_+.-]+")) {
                continue;
            }
            WindowSpec daily = WindowSpec.calendar(p("1d"), zone);
            WindowSpec weekly = WindowSpec.calendar(p("1w"), zone);
            ZoneOffsetTransition t = zone.getRules().nextTransition(from);
            for (; t != null && t.getInstant().isBefore(to); t = zone.getRules().nextTransition(t.getInstant())) {
                long at = t.getInstant().toEpochMilli();
                for (long probe : new long[] {at - 3_600_000, at - 1, at, at + 1, at + 3_600_000}) {
                    assertTiles(daily, probe);
                    assertTiles(weekly, probe);
                }
            }
        }
    }

    static void assertTiles(WindowSpec spec, long t) {
        Window w = spec.windowAt(t);
        assertThat(w.contains(t)).as("%s at %s: %s", spec, Instant.ofEpochMilli(t), w).isTrue();
        assertThat(spec.windowAt(w.endMillis()).startMillis()).as("%s after %s", spec, w).isEqualTo(w.endMillis());
        assertThat(spec.windowAt(w.startMillis() - 1).endMillis()).as("%s before %s", spec, w)
                .isEqualTo(w.startMillis());
    }

    // ---- unbounded

    @Test
    void unboundedIsOneWindowFromTheEpoch() {
        WindowSpec none = WindowSpec.unbounded();
        Window w = none.windowAt(utc("2025-03-14T12:34:56"));
        assertThat(w).isEqualTo(new Window(0, Long.MAX_VALUE));
        assertThat(none.windowAt(Long.MAX_VALUE)).isSameAs(w);
        assertThat(none.windowsAround(123, 3, 3)).containsExactly(w);
        assertThat(none.period()).isNull();
        assertThat(none.anchor()).isNull();
        assertThat(none.alignment()).isEqualTo(WindowSpec.Alignment.UNBOUNDED);
        assertThat(none.isFixedLength()).isFalse();
        assertThatThrownBy(none::anchorMillis).isInstanceOf(IllegalStateException.class);
    }

    // ---- windowsAround

    @Test
    void windowsAroundListsNeighboursInOrder() {
        WindowSpec hourly = WindowSpec.rolling(p("1h"));
        long t = utc("2025-03-14T12:34:56").toEpochMilli();
        List<Window> windows = hourly.windowsAround(t, 2, 1);
        assertThat(windows).extracting(Window::start).containsExactly(
                utc("2025-03-14T10:00:00"), utc("2025-03-14T11:00:00"), utc("2025-03-14T12:00:00"),
                utc("2025-03-14T13:00:00"));
        assertThat(hourly.windowsAround(t, 0, 0)).containsExactly(hourly.windowAt(t));
        assertThatThrownBy(() -> hourly.windowsAround(t, -1, 0)).isInstanceOf(IllegalArgumentException.class);
        // neighbours do not replace the cached window
        assertThat(hourly.windowAt(t)).isSameAs(hourly.windowAt(t + 1));
    }

    // ---- ids

    @Test
    void ids() {
        assertThat(WindowSpec.rolling(p("90m")).id()).isEqualTo("1h30m");
        assertThat(WindowSpec.rolling(p("1h"), Instant.ofEpochMilli(1_700_000_000_000L)).id())
                .isEqualTo("1h@1700000000000");
        assertThat(WindowSpec.rolling(p("1d"), Instant.ofEpochMilli(-5)).id()).isEqualTo("1d@-5");
        assertThat(WindowSpec.calendar(p("1M"), PARIS).id()).isEqualTo("cal:1M@Europe/Paris");
        assertThat(WindowSpec.calendar(p("1Q"), ZoneOffset.UTC).id()).isEqualTo("cal:3M@Z");
        assertThat(WindowSpec.unbounded().id()).isEqualTo("none");
        assertThat(WindowSpec.calendar(p("1w"), PARIS)).hasToString("cal:1w@Europe/Paris");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1h30m", "1h@1700000000000", "1d@-5", "cal:1M@Europe/Paris", "cal:1d@Z", "cal:1Y@UTC",
            "cal:1w@America/Argentina/Buenos_Aires", "cal:1d@+05:30", "cal:1d@Etc/GMT+5", "none", "1Y6M"})
    void idsReadBack(String id) {
        WindowSpec spec = WindowSpec.parseId(id);
        assertThat(spec.id()).isEqualTo(id);
        assertThat(WindowSpec.parseId(spec.id())).isEqualTo(spec);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "None", "1x", "1h@", "1h@x", "cal:1M", "cal:1M@Mars/Olympus", "cal:2h@UTC",
            "cal:@UTC", "@5", "1h@1@2"})
    void badIdsAreQuoted(String id) {
        assertThatThrownBy(() -> WindowSpec.parseId(id))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("\"" + id + "\" is not a window spec id");
    }

    @Test
    void valueEquality() {
        assertThat(WindowSpec.rolling(p("60m"))).isEqualTo(WindowSpec.rolling(p("1h"), Instant.EPOCH))
                .hasSameHashCodeAs(WindowSpec.rolling(p("1h")));
        assertThat(WindowSpec.rolling(p("1h"))).isNotEqualTo(WindowSpec.rolling(p("1h"), Instant.ofEpochMilli(1)));
        assertThat(WindowSpec.calendar(p("1d"), PARIS)).isEqualTo(WindowSpec.calendar(p("1d"), ZoneId.of("Europe/Paris")));
        assertThat(WindowSpec.calendar(p("1d"), PARIS)).isNotEqualTo(WindowSpec.rolling(p("1d")));
    }

    @Test
    void anchorIsUsedToTheMillisecond() {
        WindowSpec spec = WindowSpec.rolling(p("1s"), Instant.ofEpochSecond(10, 123_456_789));
        assertThat(spec.anchorMillis()).isEqualTo(10_123);
        assertThat(spec.windowAt(10_123).startMillis()).isEqualTo(10_123);
    }
}
