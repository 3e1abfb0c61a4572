package io.tollgate;

import io.tollgate.internal.Checks;
import io.tollgate.internal.Secrets;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The credential a caller presents. It belongs to a team, to a customer directly, or to both when the customer is
 * the team's parent. The secret itself is never kept: only its SHA-256 hash (lower-case hex) for lookup; the
 * {@code id} names the key everywhere else, in counters, logs and metrics.
 *
 * <p>An empty list of provider configs allows every provider and model; otherwise only the listed providers are
 * allowed, each with its own model rules.
 *
 * <p>Immutable and thread-safe.
 */
public record VirtualKey(String id, String name, String secretHash, String teamId, String customerId, boolean active,
                         Instant expiresAt, List<ProviderConfig> providerConfigs, List<Budget> budgets,
                         RateLimit rateLimit) {

    public VirtualKey {
        Checks.notBlank("VirtualKey.id", id);
        if (name == null) {
            name = id;
        }
        Checks.wellFormed("VirtualKey.name", name);
        if (secretHash == null || !Secrets.isSha256Hex(secretHash)) {
            // Never echo the value: a caller may have passed the secret itself here by mistake.
            throw new IllegalArgumentException("VirtualKey.secretHash of " + id
                    + ": must be 64 lower-case hex characters (the SHA-256 of the secret)");
        }
        Checks.optional("VirtualKey.teamId", teamId);
        Checks.optional("VirtualKey.customerId", customerId);
        providerConfigs = Checks.list("VirtualKey.providerConfigs", providerConfigs);
        Set<String> providers = new HashSet<>();
        for (ProviderConfig config : providerConfigs) {
            if (!providers.add(config.provider())) {
                throw new IllegalArgumentException("VirtualKey.providerConfigs of " + id + ": provider \""
                        + config.provider() + "\" is listed twice");
            }
        }
        budgets = Checks.list("VirtualKey.budgets", budgets);
    }

    /** The SHA-256 of a secret, lower-case hex: what {@link #secretHash()} holds. */
    public static String hashSecret(String secret) {
        // an unpaired surrogate has no UTF-8 form: two such secrets could share a hash
        Checks.secret("secret", secret);
        return Secrets.sha256Hex(secret);
    }

    public static Builder builder(String id) {
        return new Builder(id);
    }

    /** Inactive or past its expiry at {@code now}. */
    public boolean isBlockedAt(Instant now) {
        return !active || (expiresAt != null && !now.isBefore(expiresAt));
    }

    /** The config for {@code provider}, or empty when this key lists providers and this is not one of them. */
    public Optional<ProviderConfig> providerConfig(String provider) {
        for (ProviderConfig config : providerConfigs) {
            if (config.provider().equals(provider)) {
                return Optional.of(config);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "VirtualKey[id=" + id + ", name=" + name + ", teamId=" + teamId + ", customerId=" + customerId
                + ", active=" + active + ", expiresAt=" + expiresAt + "]";
    }

    /** Builds a {@link VirtualKey}; not thread-safe. */
    public static final class Builder {
        private final String id;
        private String name;
        private String secretHash;
        private String teamId;
        private String customerId;
        private boolean active = true;
        private Instant expiresAt;
        private final List<ProviderConfig> providerConfigs = new ArrayList<>();
        private final List<Budget> budgets = new ArrayList<>();
        private RateLimit rateLimit;

        private Builder(String id) {
            this.id = id;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Keeps only the SHA-256 of {@code secret}. */
        public Builder secret(String secret) {
            this.secretHash = hashSecret(secret);
            return this;
        }

        public Builder secretHash(String secretHash) {
            this.secretHash = secretHash;
            return this;
        }

        public Builder team(String teamId) {
            this.teamId = teamId;
            return this;
        }

        public Builder customer(String customerId) {
            this.customerId = customerId;
            return this;
        }

        public Builder active(boolean active) {
            this.active = active;
            return this;
        }

        public Builder expiresAt(Instant expiresAt) {
            this.expiresAt = expiresAt;
            return this;
        }

        public Builder provider(ProviderConfig config) {
            this.providerConfigs.add(config);
            return this;
        }

        public Builder budget(Budget budget) {
            this.budgets.add(budget);
            return this;
        }

        public Builder rateLimit(RateLimit rateLimit) {
            this.rateLimit = rateLimit;
            return this;
        }

        public VirtualKey build() {
            return new VirtualKey(id, name, secretHash, teamId, customerId, active, expiresAt, providerConfigs,
                    budgets, rateLimit);
        }
    }
}
