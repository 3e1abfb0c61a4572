package io.tollgate;

import io.tollgate.internal.Checks;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Objects;

/**
 * How long a limit's window lasts, such as {@code 30s}, {@code 1.5h}, {@code 1h30m}, {@code 1M} or {@code 1Y6M}.
 *
 * <p>Text is one or more components, each a positive number (decimal fractions allowed) followed by a unit:
 * {@code ms} milliseconds, {@code s} seconds, {@code m} minutes, {@code h} hours, {@code d} days, {@code w} weeks,
 * {@code M} months, {@code Q} quarters (3 months), {@code Y} years (12 months). Components add up. A number has at
 * most 19 significant digits before its point and 10 after it: more would be too long, or too fine to come out
 * whole, for any unit; so text is refused in time proportional to its length, however many digits it has.
 *
 * <p>A period keeps three parts, because they are not interchangeable once a time zone is involved: whole
 * {@link #months()}, whole {@link #days()} and {@link #millis()}. A fraction of a day or week spills into
 * milliseconds ({@code 1.5d} is one day and 12 hours); fractions of months must add up to whole months
 * ({@code 1.5Y} is 18 months, {@code 0.5M} is an error), and every fraction must come out as whole milliseconds.
 *
 * <p>{@link #toString()} gives canonical text that {@link #parse(String)} reads back to an equal period.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ResetPeriod {

    static final long DAY_MILLIS = 86_400_000L;
    /** The mean Gregorian month (365.2425 days / 12), used only to estimate lengths. */
    static final long MEAN_MONTH_MILLIS = 2_629_746_000L;

    private static final String GRAMMAR =
            "expected a positive number and a unit ms s m h d w M Q Y, e.g. 30s, 1.5h, 1h30m";
    private static final String TOO_LONG = "too long: at most about 71,000 years";
    private static final String NOT_WHOLE_MONTHS = "months, quarters and years must add up to whole months";
    private static final String NOT_WHOLE_MILLIS = "fractions must come out as whole milliseconds";
    /** A whole part of 20 digits is at least 10^19 ms, more than a long holds, whatever the unit. */
    private static final int MAX_WHOLE_DIGITS = 19;
    /**
     * Every unit is at most 2^10 times a power of ten of milliseconds or months (a week is 2^10 * 590625 ms), so a
     * fraction with more than 10 significant decimals can never come out whole.
     */
    private static final int MAX_FRACTION_DIGITS = 10;
    private static final BigDecimal BIG_DAY = BigDecimal.valueOf(DAY_MILLIS);
    /**
     * The longest period, about 71,000 years: 2^51 ms. With an anchor as far from 1970 (see {@link WindowSpec}), every
     * window boundary of a time a store can see stays below 2^53 ms, exact in the doubles of Redis scripts and in
     * any arithmetic of the windows.
     */
    public static final long MAX_MILLIS = 1L << 51;
    private static final BigInteger MAX_LENGTH = BigInteger.valueOf(MAX_MILLIS);
    private static final BigInteger MAX_INT = BigInteger.valueOf(Integer.MAX_VALUE);

    private final int months;
    private final int days;
    private final long millis;

    private ResetPeriod(int months, int days, long millis) {
        this.months = months;
        this.days = days;
        this.millis = millis;
    }

    /**
     * Reads a period such as {@code 30s}, {@code 1.5h}, {@code 1h30m} or {@code 1Y6M}.
     *
     * @throws IllegalArgumentException if the text is not a positive period, quoting the text
     */
    public static ResetPeriod parse(String text) {
        Objects.requireNonNull(text, "text");
        BigDecimal months = BigDecimal.ZERO;
        BigDecimal days = BigDecimal.ZERO;
        BigDecimal millis = BigDecimal.ZERO;
        int n = text.length();
        int i = 0;
        if (n == 0) {
            throw invalid(text, GRAMMAR);
        }
        while (i < n) {
            int numberStart = i;
            i = skipDigits(text, i);
            int wholeEnd = i;
            if (i == numberStart) {
                throw invalid(text, GRAMMAR);
            }
            int fractionStart = i;
            if (i < n && text.charAt(i) == '.') {
                fractionStart = ++i;
                i = skipDigits(text, i);
                if (i == fractionStart) {
                    throw invalid(text, GRAMMAR);
                }
            }
            if (i == n) {
                throw invalid(text, GRAMMAR);
            }
            char unit = text.charAt(i);
            // the digits that matter, found before any arithmetic, so that a long text costs no more than its length
            int wholeFrom = numberStart;
            while (wholeFrom < wholeEnd && text.charAt(wholeFrom) == '0') {
                wholeFrom++;
            }
            int fractionTo = i;
            while (fractionTo > fractionStart && text.charAt(fractionTo - 1) == '0') {
                fractionTo--;
            }
            if (wholeEnd - wholeFrom > MAX_WHOLE_DIGITS) {
                throw invalid(text, TOO_LONG);
            }
            if (fractionTo - fractionStart > MAX_FRACTION_DIGITS) {
                throw invalid(text, unit == 'M' || unit == 'Q' || unit == 'Y' ? NOT_WHOLE_MONTHS : NOT_WHOLE_MILLIS);
            }
            String whole = wholeFrom == wholeEnd ? "0" : text.substring(wholeFrom, wholeEnd);
            BigDecimal value = new BigDecimal(fractionTo > fractionStart
                    ? whole + "." + text.substring(fractionStart, fractionTo) : whole);
            if (value.signum() == 0) {
                throw invalid(text, GRAMMAR);
            }
            i++;
            switch (unit) {
                case 'm' -> {
                    // "ms" cannot be minutes followed by something: every component starts with a digit
                    if (i < n && text.charAt(i) == 's') {
                        i++;
                        millis = millis.add(value);
                    } else {
                        millis = millis.add(value.multiply(BigDecimal.valueOf(60_000)));
                    }
                }
                case 's' -> millis = millis.add(value.multiply(BigDecimal.valueOf(1_000)));
                case 'h' -> millis = millis.add(value.multiply(BigDecimal.valueOf(3_600_000)));
                case 'd' -> days = days.add(value);
                case 'w' -> days = days.add(value.multiply(BigDecimal.valueOf(7)));
                case 'M' -> months = months.add(value);
                case 'Q' -> months = months.add(value.multiply(BigDecimal.valueOf(3)));
                case 'Y' -> months = months.add(value.multiply(BigDecimal.valueOf(12)));
                default -> throw invalid(text, GRAMMAR);
            }
        }
        BigDecimal wholeDays = days.setScale(0, RoundingMode.FLOOR);
        millis = millis.add(days.subtract(wholeDays).multiply(BIG_DAY));
        if (!isWhole(months)) {
            throw invalid(text, NOT_WHOLE_MONTHS);
        }
        if (!isWhole(millis)) {
            throw invalid(text, NOT_WHOLE_MILLIS);
        }
        BigInteger m = months.toBigInteger();
        BigInteger d = wholeDays.toBigInteger();
        BigInteger ms = millis.toBigInteger();
        if (m.compareTo(MAX_INT) > 0 || d.compareTo(MAX_INT) > 0 || approximate(m, d, ms).compareTo(MAX_LENGTH) > 0) {
            throw invalid(text, TOO_LONG);
        }
        return new ResetPeriod(m.intValue(), d.intValue(), ms.longValue());
    }

    /**
     * A period of the given parts, none negative and not all zero.
     *
     * @throws IllegalArgumentException if a part is negative, all are zero, or the total is too long to measure
     *         in milliseconds
     */
    public static ResetPeriod of(int months, int days, long millis) {
        if (months < 0 || days < 0 || millis < 0 || (months == 0 && days == 0 && millis == 0)) {
            throw new IllegalArgumentException("a period needs parts that are not negative and not all zero, got "
                    + months + " months, " + days + " days, " + millis + " ms");
        }
        if (approximate(BigInteger.valueOf(months), BigInteger.valueOf(days), BigInteger.valueOf(millis))
                .compareTo(MAX_LENGTH) > 0) {
            throw new IllegalArgumentException("a period of " + months + " months, " + days + " days, " + millis
                    + " ms is " + TOO_LONG);
        }
        return new ResetPeriod(months, days, millis);
    }

    /** Whole months, from {@code M}, {@code Q} and {@code Y}. */
    public int months() {
        return months;
    }

    /** Whole days, from {@code d} and {@code w}. */
    public int days() {
        return days;
    }

    /** Milliseconds, from {@code ms s m h} and fractions of days and weeks. */
    public long millis() {
        return millis;
    }

    /** Whether the period has no months and no days, so its length never depends on a calendar or a zone. */
    public boolean isFixedLength() {
        return months == 0 && days == 0;
    }

    /**
     * The length of a fixed-length period.
     *
     * @throws IllegalStateException if the period has months or days
     */
    public Duration fixedDuration() {
        if (!isFixedLength()) {
            throw new IllegalStateException(this + " has months or days, so its length varies");
        }
        return Duration.ofMillis(millis);
    }

    /**
     * The length in milliseconds with days of 24 hours and months of a mean Gregorian month (30.436875 days).
     * Exact for fixed-length periods; an estimate otherwise. Always fits in a {@code long}.
     */
    public long approximateMillis() {
        return months * MEAN_MONTH_MILLIS + days * DAY_MILLIS + millis;
    }

    /** Canonical text, such as {@code 1Y2M}, {@code 2w}, {@code 1d12h} or {@code 1h30m}. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        append(text, months / 12, "Y");
        append(text, months % 12, "M");
        if (days % 7 == 0) {
            append(text, days / 7, "w");
        } else {
            append(text, days, "d");
        }
        append(text, millis / 3_600_000, "h");
        append(text, millis / 60_000 % 60, "m");
        append(text, millis / 1_000 % 60, "s");
        append(text, millis % 1_000, "ms");
        return text.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResetPeriod other && months == other.months && days == other.days && millis == other.millis;
    }

    @Override
    public int hashCode() {
        return Objects.hash(months, days, millis);
    }

    private static int skipDigits(String text, int i) {
        while (i < text.length() && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
            i++;
        }
        return i;
    }

    private static boolean isWhole(BigDecimal value) {
        return value.signum() == 0 || value.stripTrailingZeros().scale() <= 0;
    }

    private static BigInteger approximate(BigInteger months, BigInteger days, BigInteger millis) {
        return months.multiply(BigInteger.valueOf(MEAN_MONTH_MILLIS))
                .add(days.multiply(BigInteger.valueOf(DAY_MILLIS)))
                .add(millis);
    }

    private static void append(StringBuilder text, long count, String unit) {
        if (count > 0) {
            text.append(count).append(unit);
        }
    }

    private static IllegalArgumentException invalid(String text, String reason) {
        return new IllegalArgumentException(Checks.quote(text) + " is not a period (" + reason + ")");
    }
}
