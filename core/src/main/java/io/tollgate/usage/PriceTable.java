package io.tollgate.usage;

import io.tollgate.Money;
import io.tollgate.internal.Checks;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What tokens cost, per provider and model: the price of a model at a provider, else the provider's default, else
 * the global default. Provider and model names are matched exactly, as the gateway names them.
 *
 * <pre>{@code
 * PriceTable prices = PriceTable.builder()
 *         .price("openai", "gpt-4o", Money.parse("2.50"), Money.parse("10.00"))   // per million input, output tokens
 *         .providerDefault("openai", Money.parse("5"), Money.parse("15"))
 *         .build();
 * Money cost = prices.cost("openai", "gpt-4o", usage);
 * }</pre>
 *
 * <p>Costs are exact and rounded once, half-even to the nearest nanodollar ({@link ModelPrice#cost}).
 *
 * <p>Immutable and thread-safe; its builder is not.
 */
public final class PriceTable {

    private final Map<String, Map<String, ModelPrice>> models;
    private final Map<String, ModelPrice> providerDefaults;
    private final ModelPrice globalDefault;
    private final int modelCount;

    private PriceTable(Builder builder) {
        Map<String, Map<String, ModelPrice>> copy = new HashMap<>();
        builder.models.forEach((provider, byModel) -> copy.put(provider, Map.copyOf(byModel)));
        this.models = Map.copyOf(copy);
        this.providerDefaults = Map.copyOf(builder.providerDefaults);
        this.globalDefault = builder.globalDefault;
        this.modelCount = builder.models.values().stream().mapToInt(Map::size).sum();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The price of {@code model} at {@code provider}: its own, the provider's default, or the global default. */
    public Optional<ModelPrice> price(String provider, String model) {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(model, "model");
        return Optional.ofNullable(find(provider, model));
    }

    /**
     * What {@code usage} of {@code model} at {@code provider} costs, at the price {@link #price} finds.
     *
     * @throws IllegalArgumentException if no price applies (no price of the model, no default of the provider, no
     *                                  global default), naming the provider and the model
     * @throws ArithmeticException      if the cost is beyond what {@link Money} holds
     */
    public Money cost(String provider, String model, TokenUsage usage) {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(usage, "usage");
        ModelPrice price = find(provider, model);
        if (price == null) {
            throw new IllegalArgumentException("no price for model " + Checks.quote(model) + " at provider "
                    + Checks.quote(provider) + ": the table has no price of it, no default of the provider and no"
                    + " global default");
        }
        return price.cost(usage);
    }

    private ModelPrice find(String provider, String model) {
        Map<String, ModelPrice> byModel = models.get(provider);
        ModelPrice price = byModel == null ? null : byModel.get(model);
        if (price == null) {
            price = providerDefaults.get(provider);
        }
        return price != null ? price : globalDefault;
    }

    @Override
    public String toString() {
        return "PriceTable[" + modelCount + " models, " + providerDefaults.size() + " provider defaults, "
                + (globalDefault == null ? "no global default" : "global default " + globalDefault) + "]";
    }

    /** Builds a {@link PriceTable}; each price is checked as it is added. Not thread-safe. */
    public static final class Builder {
        private final Map<String, Map<String, ModelPrice>> models = new HashMap<>();
        private final Map<String, ModelPrice> providerDefaults = new HashMap<>();
        private ModelPrice globalDefault;

        private Builder() {
        }

        /**
         * The price of {@code model} at {@code provider}, per million input tokens and per million output tokens.
         *
         * @throws IllegalArgumentException if a name is blank, a price is negative, or the model has a price already,
         *                                  naming the provider, the model and the value
         */
        public Builder price(String provider, String model, Money inputPerMillion, Money outputPerMillion) {
            Checks.notBlank("PriceTable provider", provider);
            Checks.notBlank("PriceTable model (provider " + Checks.quote(provider) + ")", model);
            String of = "price of model " + Checks.quote(model) + " at provider " + Checks.quote(provider);
            ModelPrice price = checked(of, inputPerMillion, outputPerMillion);
            ModelPrice before = models.computeIfAbsent(provider, key -> new HashMap<>()).putIfAbsent(model, price);
            if (before != null) {
                throw new IllegalArgumentException(of + ": given twice (" + before + ", then " + price + ")");
            }
            return this;
        }

        /** The price of {@code model} at {@code provider}. */
        public Builder price(String provider, String model, ModelPrice price) {
            Objects.requireNonNull(price, "price");
            return price(provider, model, price.inputPerMillion(), price.outputPerMillion());
        }

        /**
         * The price of every model of {@code provider} that has none of its own.
         *
         * @throws IllegalArgumentException if the name is blank, a price is negative, or the provider has a default
         *                                  already, naming the provider and the value
         */
        public Builder providerDefault(String provider, Money inputPerMillion, Money outputPerMillion) {
            Checks.notBlank("PriceTable provider", provider);
            String of = "default price of provider " + Checks.quote(provider);
            ModelPrice price = checked(of, inputPerMillion, outputPerMillion);
            ModelPrice before = providerDefaults.putIfAbsent(provider, price);
            if (before != null) {
                throw new IllegalArgumentException(of + ": given twice (" + before + ", then " + price + ")");
            }
            return this;
        }

        /**
         * The price of every model that has none of its own and whose provider has no default.
         *
         * @throws IllegalArgumentException if a price is negative or a global default was given already
         */
        public Builder globalDefault(Money inputPerMillion, Money outputPerMillion) {
            String of = "global default price";
            ModelPrice price = checked(of, inputPerMillion, outputPerMillion);
            if (globalDefault != null) {
                throw new IllegalArgumentException(of + ": given twice (" + globalDefault + ", then " + price + ")");
            }
            globalDefault = price;
            return this;
        }

        public PriceTable build() {
            return new PriceTable(this);
        }

        private static ModelPrice checked(String of, Money inputPerMillion, Money outputPerMillion) {
            check(of, "inputPerMillion", inputPerMillion);
            check(of, "outputPerMillion", outputPerMillion);
            return new ModelPrice(inputPerMillion, outputPerMillion);
        }

        private static void check(String of, String field, Money price) {
            Objects.requireNonNull(price, () -> of + ": " + field);
            if (price.isNegative()) {
                throw new IllegalArgumentException(of + ": " + field + " " + price + " must not be negative");
            }
        }
    }
}
