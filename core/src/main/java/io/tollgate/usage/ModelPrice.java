package io.tollgate.usage;

import io.tollgate.Money;

import java.math.BigInteger;
import java.util.Objects;

/**
 * What a model's tokens cost: a price per million input tokens and a price per million output tokens.
 *
 * <p>{@link #cost} is exact: it multiplies whole nanodollars and rounds once, half-even to the nearest nanodollar,
 * as {@link Money} rounds. A price per million with at most three decimals (such as $2.50 or $0.075) is a whole
 * number of nanodollars per token, so its costs need no rounding at all.
 *
 * <p>Immutable and thread-safe.
 *
 * @param inputPerMillion  the price of a million input tokens, not negative
 * @param outputPerMillion the price of a million output tokens, not negative
 */
public record ModelPrice(Money inputPerMillion, Money outputPerMillion) {

    private static final long MILLION = 1_000_000;
    private static final BigInteger BIG_MILLION = BigInteger.valueOf(MILLION);
    private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

    public ModelPrice {
        check("ModelPrice.inputPerMillion", inputPerMillion);
        check("ModelPrice.outputPerMillion", outputPerMillion);
    }

    /** A price per million tokens given in dollars, such as {@code ModelPrice.of("2.50", "10.00")}. */
    public static ModelPrice of(String inputPerMillion, String outputPerMillion) {
        return new ModelPrice(Money.parse(inputPerMillion), Money.parse(outputPerMillion));
    }

    /**
     * What {@code usage} costs at this price: its input and output tokens, each at its price per million, added and
     * then rounded half-even to the nearest nanodollar. Tokens of the total beyond input and output are not priced.
     *
     * @throws ArithmeticException if the cost is beyond what {@link Money} holds (about 9.2 billion dollars)
     */
    public Money cost(TokenUsage usage) {
        Objects.requireNonNull(usage, "usage");
        long inputNanos = inputPerMillion.nanos();
        long outputNanos = outputPerMillion.nanos();
        long input = usage.inputTokens();
        long output = usage.outputTokens();
        long inputHigh = Math.multiplyHigh(input, inputNanos);
        long outputHigh = Math.multiplyHigh(output, outputNanos);
        long inputProduct = input * inputNanos;
        long outputProduct = output * outputNanos;
        // both products are positive, so each fits a long when its high half is 0 and its sign bit is clear
        if (inputHigh == 0 && outputHigh == 0 && inputProduct >= 0 && outputProduct >= 0
                && inputProduct <= Long.MAX_VALUE - outputProduct) {
            return Money.ofNanos(perMillionHalfEven(inputProduct + outputProduct));
        }
        BigInteger sum = BigInteger.valueOf(input).multiply(BigInteger.valueOf(inputNanos))
                .add(BigInteger.valueOf(output).multiply(BigInteger.valueOf(outputNanos)));
        BigInteger[] quotient = sum.divideAndRemainder(BIG_MILLION);
        BigInteger nanos = roundHalfEven(quotient[0], quotient[1].longValueExact());
        if (nanos.compareTo(MAX_NANOS) > 0) {
            throw new ArithmeticException("cost of " + usage + " at " + this
                    + " is beyond what money holds (about 9.2 billion dollars)");
        }
        return Money.ofNanos(nanos.longValueExact());
    }

    private static long perMillionHalfEven(long nanoTokens) {
        long quotient = nanoTokens / MILLION;
        long remainder = nanoTokens % MILLION;
        if (remainder > MILLION / 2 || (remainder == MILLION / 2 && (quotient & 1) == 1)) {
            quotient++;
        }
        return quotient;
    }

    private static BigInteger roundHalfEven(BigInteger quotient, long remainder) {
        if (remainder > MILLION / 2 || (remainder == MILLION / 2 && quotient.testBit(0))) {
            return quotient.add(BigInteger.ONE);
        }
        return quotient;
    }

    private static void check(String field, Money price) {
        Objects.requireNonNull(price, field);
        if (price.isNegative()) {
            throw new IllegalArgumentException(field + ": " + price + " must not be negative");
        }
    }

    @Override
    public String toString() {
        return inputPerMillion + " input, " + outputPerMillion + " output per million tokens";
    }
}
