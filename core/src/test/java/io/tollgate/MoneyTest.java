package io.tollgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MoneyTest {

    @Test
    void aMillionSmallChargesSumExactly() {
        Money charge = Money.ofDollars(0.000123);
        Money total = Money.ZERO;
        for (int i = 0; i < 1_000_000; i++) {
            total = total.plus(charge);
        }
        assertThat(total).isEqualTo(Money.parse("123"));
        assertThat(total).hasToString("$123.000000000");
        assertThat(total.nanos()).isEqualTo(123_000_000_000L);
    }

    @ParameterizedTest(name = "{0} dollars is {1} nanodollars")
    @CsvSource({
            "0.0000000005,  0",
            "0.0000000015,  2",
            "0.0000000025,  2",
            "0.0000000035,  4",
            "-0.0000000005, 0",
            "-0.0000000015, -2",
            "0.00000000049, 0",
            "0.00000000051, 1",
            "1.2345678905,  1234567890",
            "1.2345678915,  1234567892",
    })
    void roundsHalfEven(String dollars, long nanos) {
        assertThat(Money.of(new BigDecimal(dollars)).nanos()).isEqualTo(nanos);
        assertThat(Money.ofDollars(Double.parseDouble(dollars)).nanos()).isEqualTo(nanos);
    }

    @Test
    void doublesAreReadByTheirShortestText() {
        assertThat(Money.ofDollars(0.1).nanos()).isEqualTo(100_000_000L);
        assertThat(Money.ofDollars(0.000123).nanos()).isEqualTo(123_000L);
        assertThat(Money.ofDollars(-2.5).nanos()).isEqualTo(-2_500_000_000L);
        assertThat(Money.ofDollars(1e-300)).isEqualTo(Money.ZERO);
    }

    @ParameterizedTest
    @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
    void rejectsNonFiniteDoubles(double dollars) {
        assertThatThrownBy(() -> Money.ofDollars(dollars))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(dollars));
    }

    @Test
    void rejectsOutOfRange() {
        assertThatThrownBy(() -> Money.ofDollars(1e10))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1.0E10");
        assertThatThrownBy(() -> Money.ofDollars(-1e300)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Money.of(new BigDecimal("9223372036.854775808")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Money.of(new BigDecimal("1E+1000000000")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(Money.of(new BigDecimal("1E-1000000000"))).isEqualTo(Money.ZERO);
        assertThat(Money.of(new BigDecimal("9223372036.854775807")).nanos()).isEqualTo(Long.MAX_VALUE);
        assertThat(Money.of(new BigDecimal("-9223372036.854775808")).nanos()).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void overflowIsAnError() {
        Money max = Money.ofNanos(Long.MAX_VALUE);
        assertThatThrownBy(() -> max.plus(Money.ofNanos(1)))
                .isInstanceOf(ArithmeticException.class)
                .hasMessageStartingWith("money overflow: $9223372036.854775807 + $0.000000001");
        assertThatThrownBy(() -> Money.ofNanos(Long.MIN_VALUE).minus(Money.ofNanos(1)))
                .isInstanceOf(ArithmeticException.class)
                .hasMessageStartingWith("money overflow: -$9223372036.854775808 - $0.000000001");
    }

    @ParameterizedTest(name = "{0} reads as {1}")
    @CsvSource({
            "123.45,          $123.450000000",
            "$123.45,         $123.450000000",
            "123,             $123.000000000",
            "0,               $0.000000000",
            "-0,              $0.000000000",
            "-$0.5,           -$0.500000000",
            "-1.25,           -$1.250000000",
            "0.0000000015,    $0.000000002",
            "$9223372036.854775807, $9223372036.854775807",
    })
    void parses(String text, String printed) {
        Money money = Money.parse(text);
        assertThat(money).hasToString(printed);
        assertThat(Money.parse(money.toString())).isEqualTo(money);
    }

    @ParameterizedTest(name = "{0} reads as {1} nanodollars")
    @CsvSource({
            // the decimals past the tenth decide only whether a tie is broken
            "0.00000000050000000000000000000000000000001, 1",
            "0.00000000050000000000000000000000000000000, 0",
            "0.00000000150000000000000000000000000000000, 2",
            "0.00000000149999999999999999999999999999999, 1",
            "-$0.00000000250000000000000000000000000000001, -3",
            "000000000000000000000000000000000009223372036.854775807, 9223372036854775807",
    })
    void longTextIsReadExactly(String text, long nanos) {
        assertThat(Money.parse(text).nanos()).isEqualTo(nanos);
        assertThat(Money.parse(text)).isEqualTo(Money.of(new BigDecimal(text.replace("$", ""))));
    }

    @Test
    void hugeAmountIsRefusedWithoutReadingItAll() {
        String digits = "9".repeat(1_000_000);

        assertThatThrownBy(() -> Money.parse(digits))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + "9".repeat(80) + "...\" dollars is out of range for money (about ±9.2 billion dollars)");
        assertThatThrownBy(() -> Money.parse("10000000000")).hasMessageContaining("out of range");
        assertThat(Money.parse("0." + "0".repeat(1_000_000) + "1")).isEqualTo(Money.ZERO);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "$", "abc", "1.", ".5", "1,5", "$-1", "+1", "1e3", " 1", "1 ", "USD 1", "1$", "--1"})
    void rejectsNonAmounts(String text) {
        assertThatThrownBy(() -> Money.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("\"" + text + "\" is not an amount of money");
    }

    @Test
    void arithmeticAndOrder() {
        Money a = Money.parse("1.5");
        Money b = Money.parse("2");
        assertThat(a.plus(b)).isEqualTo(Money.parse("3.5"));
        assertThat(a.minus(b)).isEqualTo(Money.parse("-0.5"));
        assertThat(a.minus(b).isNegative()).isTrue();
        assertThat(a.minus(b).signum()).isEqualTo(-1);
        assertThat(Money.ZERO.signum()).isZero();
        assertThat(a.signum()).isEqualTo(1);
        assertThat(a).isLessThan(b);
        assertThat(a.dollars()).isEqualTo(new BigDecimal("1.500000000"));
        assertThat(a.dollars().scale()).isEqualTo(9);
        assertThat(Money.ofNanos(1_500_000_000L)).isEqualTo(a).hasSameHashCodeAs(a);
        assertThat(Money.ofNanos(Long.MIN_VALUE)).hasToString("-$9223372036.854775808");
    }
}
