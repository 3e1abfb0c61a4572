package io.tollgate.usage;

import io.tollgate.Money;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Prices per provider and model, and the exact cost of tokens. */
class PriceTableTest {

    private static Money dollars(String amount) {
        return Money.parse(amount);
    }

    private static final PriceTable PRICES = PriceTable.builder()
            .price("openai", "gpt-4o", dollars("2.50"), dollars("10.00"))
            .price("openai", "gpt-4o-mini", dollars("0.15"), dollars("0.60"))
            .price("azure", "gpt-4o", dollars("2.75"), dollars("11.00"))
            .providerDefault("openai", dollars("5"), dollars("15"))
            .globalDefault(dollars("1"), dollars("2"))
            .build();

    @Test
    void aModelIsPricedAtItsOwnPriceThenItsProvidersDefaultThenTheGlobalDefault() {
        assertThat(PRICES.price("openai", "gpt-4o")).contains(ModelPrice.of("2.50", "10.00"));
        assertThat(PRICES.price("azure", "gpt-4o")).contains(ModelPrice.of("2.75", "11.00"));
        assertThat(PRICES.price("openai", "o9-preview")).contains(ModelPrice.of("5", "15"));
        assertThat(PRICES.price("azure", "gpt-4o-mini")).as("no default for azure").contains(ModelPrice.of("1", "2"));
        assertThat(PRICES.price("mistral", "gpt-4o")).contains(ModelPrice.of("1", "2"));
        assertThat(PRICES.price("OpenAI", "gpt-4o")).as("names match exactly").contains(ModelPrice.of("1", "2"));
    }

    @Test
    void aCostIsEachKindOfTokenAtItsPricePerMillion() {
        // 1,000 input at $2.50/M and 500 output at $10/M: $0.0025 + $0.005
        assertThat(PRICES.cost("openai", "gpt-4o", TokenUsage.of(1_000, 500))).isEqualTo(dollars("0.0075"));
        assertThat(PRICES.cost("openai", "gpt-4o-mini", TokenUsage.of(1_200, 345)))
                .isEqualTo(Money.ofNanos(1_200 * 150 + 345 * 600));
        assertThat(PRICES.cost("openai", "gpt-4o", TokenUsage.of(0, 0))).isEqualTo(Money.ZERO);
        assertThat(PRICES.cost("openai", "gpt-4o", TokenUsage.of(1_000_000, 1_000_000))).isEqualTo(dollars("12.50"));
    }

    @Test
    void tokensOfTheTotalBeyondInputAndOutputAreNotPriced() {
        assertThat(PRICES.cost("openai", "gpt-4o", new TokenUsage(1_000, 500, 9_999))).isEqualTo(dollars("0.0075"));
    }

    @Test
    void aCostIsRoundedOnceHalfEvenToTheNanodollar() {
        // $0.0375 per million is 37.5 nanodollars a token
        ModelPrice price = new ModelPrice(dollars("0.0375"), dollars("0.0125"));
        assertThat(price.cost(TokenUsage.of(1, 0))).as("37.5 to even").isEqualTo(Money.ofNanos(38));
        assertThat(price.cost(TokenUsage.of(3, 0))).as("112.5 to even").isEqualTo(Money.ofNanos(112));
        assertThat(price.cost(TokenUsage.of(0, 1))).as("12.5 to even").isEqualTo(Money.ofNanos(12));
        // the sum is rounded, not each part: 37.5 + 12.5 is exactly 50
        assertThat(price.cost(TokenUsage.of(1, 1))).isEqualTo(Money.ofNanos(50));
        ModelPrice tiny = new ModelPrice(Money.ofNanos(1), Money.ofNanos(1));
        assertThat(tiny.cost(TokenUsage.of(400_000, 100_001))).as("0.500001 up").isEqualTo(Money.ofNanos(1));
        assertThat(tiny.cost(TokenUsage.of(400_000, 99_999))).as("0.499999 down").isEqualTo(Money.ZERO);
    }

    @Test
    void aCostPastSixtyFourBitsOfNanoTokensIsStillExact() {
        // 10^12 tokens at $1,000 per million: the product of nanodollars and tokens passes 2^63
        ModelPrice price = new ModelPrice(dollars("1000"), dollars("3000.0000005"));
        assertThat(price.cost(TokenUsage.of(1_000_000_000_000L, 0))).isEqualTo(dollars("1000000000"));
        // 3,000,000.0005 nanodollars a token, times about 10^9 tokens: halves of a nanodollar, rounded to even
        assertThat(price.cost(TokenUsage.of(0, 1_000_001_000L))).isEqualTo(Money.ofNanos(3_000_003_000_500_000L));
        assertThat(price.cost(TokenUsage.of(0, 1_000_003_000L))).isEqualTo(Money.ofNanos(3_000_009_000_500_002L));
        assertThat(price.cost(TokenUsage.of(0, 1L))).as("3,000,000.0005 to the nanodollar")
                .isEqualTo(Money.ofNanos(3_000_000));
    }

    @Test
    void aCostBeyondWhatMoneyHoldsIsRefused() {
        ModelPrice price = new ModelPrice(dollars("1000"), dollars("1000"));
        assertThatThrownBy(() -> price.cost(TokenUsage.of(10_000_000_000_000L, 0)))
                .isInstanceOf(ArithmeticException.class).hasMessageContaining("beyond");
        assertThatThrownBy(() -> price.cost(TokenUsage.of(Long.MAX_VALUE / 2, Long.MAX_VALUE / 2)))
                .isInstanceOf(ArithmeticException.class);
    }

    @Test
    void aModelWithoutAPriceIsNamedInTheRefusal() {
        PriceTable table = PriceTable.builder().price("openai", "gpt-4o", dollars("2.5"), dollars("10")).build();
        assertThat(table.price("openai", "gpt-5")).isEmpty();
        assertThatThrownBy(() -> table.cost("openai", "gpt-5", TokenUsage.of(1, 1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"gpt-5\"").hasMessageContaining("\"openai\"");
    }

    @Test
    void aFreeModelCostsNothing() {
        PriceTable table = PriceTable.builder().price("local", "llama", Money.ZERO, Money.ZERO).build();
        assertThat(table.cost("local", "llama", TokenUsage.of(1_000_000, 1_000_000))).isEqualTo(Money.ZERO);
    }

    @Test
    void aNegativePriceIsRefusedNamingTheProviderTheModelAndTheValue() {
        assertThatThrownBy(() -> PriceTable.builder().price("openai", "gpt-4o", dollars("-2.5"), dollars("10")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"gpt-4o\"").hasMessageContaining("\"openai\"")
                .hasMessageContaining("inputPerMillion").hasMessageContaining("-$2.5");
        assertThatThrownBy(() -> PriceTable.builder().providerDefault("openai", dollars("1"), dollars("-0.01")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"openai\"").hasMessageContaining("outputPerMillion")
                .hasMessageContaining("-$0.01");
        assertThatThrownBy(() -> PriceTable.builder().globalDefault(dollars("-1"), dollars("1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("global").hasMessageContaining("-$1");
        assertThatThrownBy(() -> new ModelPrice(dollars("1"), dollars("-1")))
                .hasMessageContaining("ModelPrice.outputPerMillion").hasMessageContaining("-$1");
    }

    @Test
    void aMissingPriceIsRefusedNamingTheProviderAndTheModel() {
        assertThatThrownBy(() -> PriceTable.builder().price("openai", "gpt-4o", null, dollars("10")))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("\"gpt-4o\"").hasMessageContaining("inputPerMillion");
    }

    @Test
    void aBlankNameIsRefusedNamingTheField() {
        assertThatThrownBy(() -> PriceTable.builder().price(" ", "gpt-4o", dollars("1"), dollars("1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("provider");
        assertThatThrownBy(() -> PriceTable.builder().price("openai", "", dollars("1"), dollars("1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("model")
                .hasMessageContaining("\"openai\"");
        assertThatThrownBy(() -> PriceTable.builder().providerDefault(null, dollars("1"), dollars("1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("provider");
    }

    @Test
    void aPriceGivenTwiceIsRefused() {
        PriceTable.Builder builder = PriceTable.builder().price("openai", "gpt-4o", dollars("2.5"), dollars("10"))
                .providerDefault("openai", dollars("5"), dollars("15"))
                .globalDefault(dollars("1"), dollars("2"));
        assertThatThrownBy(() -> builder.price("openai", "gpt-4o", dollars("3"), dollars("10")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"gpt-4o\"")
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> builder.providerDefault("openai", dollars("5"), dollars("15")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"openai\"")
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> builder.globalDefault(dollars("1"), dollars("2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("twice");
    }

    @Test
    void aTableCannotBeChangedThroughItsBuilder() {
        PriceTable.Builder builder = PriceTable.builder().price("openai", "gpt-4o", dollars("2.5"), dollars("10"));
        PriceTable table = builder.build();
        builder.price("openai", "gpt-4o-mini", dollars("0.15"), dollars("0.6"));
        assertThat(table.price("openai", "gpt-4o-mini")).isEmpty();
        assertThat(table).hasToString("PriceTable[1 models, 0 provider defaults, no global default]");
    }
}
