package io.tollgate;

import io.tollgate.internal.Checks;

import java.util.Objects;

/**
 * One request to check before the upstream call. Every field but the estimates may be {@code null}: a request without
 * a virtual key skips the key's levels, one without a user skips the user's, one without provider or model skips
 * provider and model levels.
 *
 * <p>An estimate (tokens, cost) is reserved at check time: the check blocks when {@code used + estimate > max}, and
 * the charge settles it, so overshoot is bounded by the estimate's error. Without an estimate the check blocks only
 * once {@code used >= max}.
 *
 * <p>Immutable and thread-safe. {@link #toString()} never shows the secret.
 */
public record CheckRequest(String virtualKey, String userId, String provider, String model, long estimatedTokens,
                           Money estimatedCost) {

    public CheckRequest {
        Checks.optionalSecret("CheckRequest.virtualKey", virtualKey);
        Checks.optional("CheckRequest.userId", userId);
        Checks.optional("CheckRequest.provider", provider);
        Checks.optional("CheckRequest.model", model);
        Checks.notNegative("CheckRequest.estimatedTokens", estimatedTokens);
        Objects.requireNonNull(estimatedCost, "CheckRequest.estimatedCost");
        if (estimatedCost.signum() < 0) {
            throw new IllegalArgumentException("CheckRequest.estimatedCost: " + estimatedCost + " must not be negative");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        return "CheckRequest[virtualKey=" + (virtualKey == null ? "none" : "***") + ", userId=" + userId + ", provider="
                + provider + ", model=" + model + ", estimatedTokens=" + estimatedTokens + ", estimatedCost="
                + estimatedCost + "]";
    }

    /** Builds a {@link CheckRequest}; not thread-safe. */
    public static final class Builder {
        private String virtualKey;
        private String userId;
        private String provider;
        private String model;
        private long estimatedTokens;
        private Money estimatedCost = Money.ZERO;

        private Builder() {
        }

        /** The secret the caller presented. */
        public Builder virtualKey(String secret) {
            this.virtualKey = secret;
            return this;
        }

        public Builder user(String userId) {
            this.userId = userId;
            return this;
        }

        public Builder provider(String provider) {
            this.provider = provider;
            return this;
        }

        public Builder model(String model) {
            this.model = model;
            return this;
        }

        public Builder estimatedTokens(long tokens) {
            this.estimatedTokens = tokens;
            return this;
        }

        public Builder estimatedCost(Money cost) {
            this.estimatedCost = cost;
            return this;
        }

        public CheckRequest build() {
            return new CheckRequest(virtualKey, userId, provider, model, estimatedTokens, estimatedCost);
        }
    }
}
