package io.tollgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ResetPeriodTest {

    private static final long H = 3_600_000L;

    @ParameterizedTest(name = "{0} = {1}M {2}d {3}ms")
    @CsvSource({
            "1ms,     0,  0, 1",
            "30s,     0,  0, 30000",
            "5m,      0,  0, 300000",
            "1h,      0,  0, 3600000",
            "1.5h,    0,  0, 5400000",
            "1h30m,   0,  0, 5400000",
            "0.5s,    0,  0, 500",
            "1.25s,   0,  0, 1250",
            "1d,      0,  1, 0",
            "0.5d,    0,  0, 43200000",
            "1.5d,    0,  1, 43200000",
            "1d12h,   0,  1, 43200000",
            "1w,      0,  7, 0",
            "1.5w,    0, 10, 43200000",
            "1M,      1,  0, 0",
            "1Q,      3,  0, 0",
            "1Y,     12,  0, 0",
            "1.5Y,   18,  0, 0",
            "1Y6M,   18,  0, 0",
            "1M1d1h,  1,  1, 3600000",
            "1h1h,    0,  0, 7200000",
            "1m1ms,   0,  0, 60001",
    })
    void parsesExamples(String text, int months, int days, long millis) {
        ResetPeriod period = ResetPeriod.parse(text);
        assertThat(period.months()).isEqualTo(months);
        assertThat(period.days()).isEqualTo(days);
        assertThat(period.millis()).isEqualTo(millis);
        assertThat(period).isEqualTo(ResetPeriod.of(months, days, millis));
    }

    @Test
    void badTextIsQuotedWithTheGrammar() {
        assertThatThrownBy(() -> ResetPeriod.parse("1x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"1x\" is not a period (expected a positive number and a unit ms s m h d w M Q Y, "
                        + "e.g. 30s, 1.5h, 1h30m)");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", " ", "   ", "\t", "h", "1", "1 h", " 1h", "1h ", "1H", "1D", "1y", "1q", "1W", "1mo", "1min",
            "-1h", "+1h", "0h", "0", "0ms", "0.0h", "1h0m", "0h30m", ".5h", "1.h", "1..5h", "1,5h", "1e3s",
            "1h30", "h30m", "30m1", "1hh", "1s-1ms", "١h", "1_000ms", "NaN", "Infinity"})
    void rejectsNonPeriods(String text) {
        assertThatThrownBy(() -> ResetPeriod.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                // control characters are shown escaped, so that a message stays on one line
                .hasMessageStartingWith("\"" + text.replace("\t", "\\t") + "\" is not a period (expected a positive number");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.5M", "0.5Q", "1.5Q", "0.1Y", "1.1M"})
    void rejectsFractionsOfMonths(String text) {
        assertThatThrownBy(() -> ResetPeriod.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a period (months, quarters and years must add up to whole months)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.5ms", "1.0001s", "0.0000001d", "0.00000001h", "1.5ms"})
    void rejectsFractionsOfMilliseconds(String text) {
        assertThatThrownBy(() -> ResetPeriod.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a period (fractions must come out as whole milliseconds)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"9223372036854775808ms", "99999999999999999999999h", "2147483648M", "2147483648d",
            "300000000Y", "1000000000000w", "3000000000d"})
    void rejectsOverflow(String text) {
        assertThatThrownBy(() -> ResetPeriod.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("\"" + text + "\" is not a period (too long");
    }

    @Test
    void theLongestPeriodAndTheFarthestAnchorKeepEveryWindowBoundaryExactInADouble() {
        assertThat(ResetPeriod.parse("71000Y").approximateMillis()).isLessThanOrEqualTo(ResetPeriod.MAX_MILLIS);
        assertThatThrownBy(() -> ResetPeriod.parse("72000Y")).hasMessageContaining("too long: at most about 71,000");
        assertThatThrownBy(() -> ResetPeriod.of(0, 0, ResetPeriod.MAX_MILLIS + 1))
                .hasMessageContaining("too long: at most about 71,000 years");

        WindowSpec farthest = WindowSpec.rolling(ResetPeriod.of(0, 0, ResetPeriod.MAX_MILLIS),
                Instant.ofEpochMilli(-ResetPeriod.MAX_MILLIS + 999));
        for (long at : new long[] {0, System.currentTimeMillis(), ResetPeriod.MAX_MILLIS}) {
            Window window = farthest.windowAt(at);
            assertThat(Math.abs(window.startMillis())).isLessThan(1L << 53);
            assertThat(Math.abs(window.endMillis())).isLessThan(1L << 53);
        }
        assertThatThrownBy(() -> WindowSpec.rolling(ResetPeriod.parse("1d"),
                Instant.ofEpochSecond(ResetPeriod.MAX_MILLIS / 1000 + 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is too far from 1970");
    }

    @Test
    void digitsThatDoNotMatterAreAllowed() {
        assertThat(ResetPeriod.parse("0000000000000000000000000001h")).isEqualTo(ResetPeriod.parse("1h"));
        assertThat(ResetPeriod.parse("0.50000000000000000000000000d")).isEqualTo(ResetPeriod.parse("12h"));
        assertThat(ResetPeriod.parse("0.0009765625d")).isEqualTo(ResetPeriod.of(0, 0, 84_375));
    }

    @Test
    void longNumbersAreRefusedWithoutReadingThemAll() {
        String digits = "9".repeat(1_000_000);

        assertThatThrownBy(() -> ResetPeriod.parse(digits + "ms"))
                .hasMessage("\"" + "9".repeat(80) + "...\" is not a period (too long: at most about 71,000 years)");
        assertThatThrownBy(() -> ResetPeriod.parse("1." + digits + "d"))
                .hasMessageEndingWith(" is not a period (fractions must come out as whole milliseconds)");
        assertThatThrownBy(() -> ResetPeriod.parse("1." + digits + "Y"))
                .hasMessageEndingWith(" is not a period (months, quarters and years must add up to whole months)");
        assertThatThrownBy(() -> ResetPeriod.parse("10000000000000000000ms")).hasMessageContaining("too long");
    }

    @Test
    void acceptsTheLongestPeriodThatFits() {
        assertThat(ResetPeriod.parse(ResetPeriod.MAX_MILLIS + "ms").millis()).isEqualTo(ResetPeriod.MAX_MILLIS);
        assertThat(ResetPeriod.parse("71000Y").months()).isEqualTo(852_000);
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> ResetPeriod.parse(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void ofValidatesParts() {
        assertThatThrownBy(() -> ResetPeriod.of(0, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ResetPeriod.of(-1, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ResetPeriod.of(0, -1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ResetPeriod.of(0, 0, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ResetPeriod.of(0, 1, Long.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("too long");
        assertThatThrownBy(() -> ResetPeriod.of(Integer.MAX_VALUE, 0, 4_000_000_000_000_000_000L))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ResetPeriod.of(0, Integer.MAX_VALUE, 0)).hasMessageContaining("too long");
        assertThat(ResetPeriod.of(0, 25_000_000, 0).days()).isEqualTo(25_000_000);
    }

    @ParameterizedTest(name = "{0} prints as {1}")
    @CsvSource({
            "1h,       1h",
            "90m,      1h30m",
            "3600s,    1h",
            "1.5h,     1h30m",
            "61.001s,  1m1s1ms",
            "36h,      36h",
            "1.5d,     1d12h",
            "7d,       1w",
            "14d,      2w",
            "8d,       8d",
            "1w1d,     8d",
            "3M,       3M",
            "1Q,       3M",
            "12M,      1Y",
            "14M,      1Y2M",
            "1Y2M3w4d5h6m7s8ms, 1Y2M25d5h6m7s8ms",
            "1000ms,   1s",
    })
    void printsCanonically(String text, String canonical) {
        assertThat(ResetPeriod.parse(text)).hasToString(canonical);
        assertThat(ResetPeriod.parse(canonical)).isEqualTo(ResetPeriod.parse(text));
    }

    @Test
    void fixedLength() {
        assertThat(ResetPeriod.parse("1h30m").isFixedLength()).isTrue();
        assertThat(ResetPeriod.parse("1h30m").fixedDuration()).isEqualTo(Duration.ofMinutes(90));
        assertThat(ResetPeriod.parse("36h").isFixedLength()).isTrue();
        assertThat(ResetPeriod.parse("1d").isFixedLength()).isFalse();
        assertThat(ResetPeriod.parse("1M").isFixedLength()).isFalse();
        assertThatThrownBy(() -> ResetPeriod.parse("1d").fixedDuration()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void approximateLengthCountsDaysAs24HoursAndMonthsAsTheMeanMonth() {
        assertThat(ResetPeriod.parse("1d1h").approximateMillis()).isEqualTo(25 * H);
        assertThat(ResetPeriod.parse("1Y").approximateMillis()).isEqualTo(Math.round(365.2425 * 24 * H));
    }

    @Test
    void equalityIsByParts() {
        assertThat(ResetPeriod.parse("1h30m")).isEqualTo(ResetPeriod.parse("90m"))
                .hasSameHashCodeAs(ResetPeriod.parse("90m"));
        // a day is not 24 hours in a zone with DST
        assertThat(ResetPeriod.parse("1d")).isNotEqualTo(ResetPeriod.parse("24h"));
    }
}
