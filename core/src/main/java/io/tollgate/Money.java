package io.tollgate;

import io.tollgate.internal.Checks;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An exact amount of money, held as a whole number of nanodollars (10<sup>-9</sup> dollars) in a {@code long}:
 * about ±9.2 billion dollars.
 *
 * <p>Doubles are accepted at the API edge ({@link #ofDollars(double)}) and rounded once, half-even, to the nearest
 * nanodollar; from then on every sum is integer arithmetic, so a million charges of $0.000123 add up to exactly
 * $123. Stores keep the {@link #nanos()} and add them with integer commands.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Money implements Comparable<Money> {

    /** No money. */
    public static final Money ZERO = new Money(0);

    private static final int SCALE = 9;
    private static final BigDecimal MIN_DOLLARS = BigDecimal.valueOf(Long.MIN_VALUE, SCALE);
    private static final BigDecimal MAX_DOLLARS = BigDecimal.valueOf(Long.MAX_VALUE, SCALE);
    private static final BigDecimal HALF_NANO = BigDecimal.valueOf(5, SCALE + 1);
    /** Digits before the point in the largest amount, 9223372036. */
    private static final int MAX_WHOLE_DIGITS = 10;
    private static final Pattern TEXT = Pattern.compile("(-?)\\$?(\\d+(?:\\.\\d+)?)");

    private final long nanos;

    private Money(long nanos) {
        this.nanos = nanos;
    }

    /** An amount of nanodollars. */
    public static Money ofNanos(long nanos) {
        return nanos == 0 ? ZERO : new Money(nanos);
    }

    /**
     * An amount of dollars given as a double, rounded half-even to the nearest nanodollar. The double is read by its
     * shortest decimal text ({@link BigDecimal#valueOf(double)}), so {@code 0.000123} is exactly 123000 nanodollars.
     *
     * @throws IllegalArgumentException if the value is NaN, infinite or out of range
     */
    public static Money ofDollars(double dollars) {
        if (!Double.isFinite(dollars)) {
            throw new IllegalArgumentException(dollars + " is not an amount of money");
        }
        return fromDollars(BigDecimal.valueOf(dollars), dollars);
    }

    /**
     * An amount of dollars, rounded half-even to the nearest nanodollar.
     *
     * @throws IllegalArgumentException if the value is out of range
     */
    public static Money of(BigDecimal dollars) {
        Objects.requireNonNull(dollars, "dollars");
        return fromDollars(dollars, dollars);
    }

    /**
     * Reads dollars such as {@code 123.45}, {@code $123.45} or {@code -$0.5}, rounded half-even to the nearest
     * nanodollar; reads back any {@link #toString()}.
     *
     * @throws IllegalArgumentException if the text is not an amount or is out of range, quoting the text
     */
    public static Money parse(String text) {
        Objects.requireNonNull(text, "text");
        Matcher m = TEXT.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    Checks.quote(text) + " is not an amount of money (expected dollars such as 123.45 or $123.45)");
        }
        String digits = m.group(2);
        int point = digits.indexOf('.');
        int wholeEnd = point < 0 ? digits.length() : point;
        int firstSignificant = 0;
        while (firstSignificant < wholeEnd - 1 && digits.charAt(firstSignificant) == '0') {
            firstSignificant++;
        }
        // more than 10 whole digits is beyond ±9.2 billion dollars: no need to read them all
        if (wholeEnd - firstSignificant > MAX_WHOLE_DIGITS) {
            throw outOfRange(Checks.quote(text));
        }
        BigDecimal amount = new BigDecimal(point < 0 ? digits
                : digits.substring(0, point + 1) + roundingDigits(digits.substring(point + 1)));
        return fromDollars(m.group(1).isEmpty() ? amount : amount.negate(), Checks.quote(text));
    }

    /**
     * The decimals that decide the rounding to nanodollars: the first ten, then a 1 if any later one is not 0.
     * Half-even rounding at nine decimals gives the same result for both, and a long tail costs nothing to read.
     */
    private static String roundingDigits(String decimals) {
        if (decimals.length() <= SCALE + 1) {
            return decimals;
        }
        for (int i = SCALE + 1; i < decimals.length(); i++) {
            if (decimals.charAt(i) != '0') {
                return decimals.substring(0, SCALE + 1) + "1";
            }
        }
        return decimals.substring(0, SCALE + 1);
    }

    /** The amount in nanodollars. */
    public long nanos() {
        return nanos;
    }

    /** The amount in dollars, with scale 9. */
    public BigDecimal dollars() {
        return BigDecimal.valueOf(nanos, SCALE);
    }

    /**
     * This amount plus another.
     *
     * @throws ArithmeticException if the sum does not fit
     */
    public Money plus(Money other) {
        try {
            return ofNanos(Math.addExact(nanos, other.nanos));
        } catch (ArithmeticException e) {
            throw new ArithmeticException("money overflow: " + this + " + " + other + " is beyond ±9.2 billion dollars");
        }
    }

    /**
     * This amount minus another.
     *
     * @throws ArithmeticException if the difference does not fit
     */
    public Money minus(Money other) {
        try {
            return ofNanos(Math.subtractExact(nanos, other.nanos));
        } catch (ArithmeticException e) {
            throw new ArithmeticException("money overflow: " + this + " - " + other + " is beyond ±9.2 billion dollars");
        }
    }

    /** Whether the amount is below zero. */
    public boolean isNegative() {
        return nanos < 0;
    }

    /** -1, 0 or 1 as the amount is negative, zero or positive. */
    public int signum() {
        return Long.signum(nanos);
    }

    @Override
    public int compareTo(Money other) {
        return Long.compare(nanos, other.nanos);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Money other && nanos == other.nanos;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(nanos);
    }

    /** Dollars with all nine decimals, such as {@code $123.000000000} or {@code -$0.500000000}. */
    @Override
    public String toString() {
        return (nanos < 0 ? "-$" : "$") + dollars().abs().toPlainString();
    }

    /** {@code shown} is how the caller gave the amount, for the error message; formatted only on failure. */
    private static Money fromDollars(BigDecimal dollars, Object shown) {
        // tiny amounts round to zero; checking first spares a huge rescale of values like 1E-1000000000
        if (dollars.abs().compareTo(HALF_NANO) <= 0) {
            return ZERO;
        }
        if (dollars.compareTo(MIN_DOLLARS) < 0 || dollars.compareTo(MAX_DOLLARS) > 0) {
            throw outOfRange(shown);
        }
        // the bounds are whole nanodollars, so rounding cannot cross them
        return ofNanos(dollars.setScale(SCALE, RoundingMode.HALF_EVEN).unscaledValue().longValueExact());
    }

    private static IllegalArgumentException outOfRange(Object shown) {
        return new IllegalArgumentException(shown + " dollars is out of range for money (about ±9.2 billion dollars)");
    }
}
