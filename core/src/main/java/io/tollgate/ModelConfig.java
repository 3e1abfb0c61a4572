package io.tollgate;

import io.tollgate.internal.Checks;

import java.util.List;
import java.util.Objects;

/**
 * Limits for a model name (or {@code *} for every model), optionally pinned to one provider ({@code null} for any),
 * in a scope: every request, one virtual key's requests, or one user's. Provider-wide limits are a model config with
 * model {@code *} and that provider. Every model config that matches a request applies.
 *
 * <p>Immutable and thread-safe.
 */
public record ModelConfig(String id, String model, String provider, Scope scope, String scopeId,
                          List<Budget> budgets, RateLimit rateLimit) {

    public static final String ANY_MODEL = "*";

    /** Whose requests a model config counts. */
    public enum Scope {
        /** Every request. */
        GLOBAL,
        /** The requests of the virtual key named by {@code scopeId}. */
        VIRTUAL_KEY,
        /** The requests of the user named by {@code scopeId}. */
        USER
    }

    public ModelConfig {
        Checks.notBlank("ModelConfig.id", id);
        Checks.notBlank("ModelConfig.model", model);
        Checks.optional("ModelConfig.provider", provider);
        Objects.requireNonNull(scope, "ModelConfig.scope");
        if (scope == Scope.GLOBAL && scopeId != null) {
            throw new IllegalArgumentException("ModelConfig.scopeId: \"" + scopeId + "\" must be absent for a GLOBAL model config");
        }
        if (scope != Scope.GLOBAL) {
            Checks.notBlank("ModelConfig.scopeId", scopeId);
        }
        budgets = Checks.list("ModelConfig.budgets", budgets);
        if (budgets.isEmpty() && rateLimit == null) {
            throw new IllegalArgumentException("ModelConfig " + id + ": needs a budget or a rate limit");
        }
    }

    /** A model config for every request. */
    public static ModelConfig global(String id, String model, String provider, List<Budget> budgets, RateLimit rateLimit) {
        return new ModelConfig(id, model, provider, Scope.GLOBAL, null, budgets, rateLimit);
    }

    public boolean matches(String requestModel, String requestProvider) {
        boolean modelMatches = ANY_MODEL.equals(model) || model.equals(requestModel);
        boolean providerMatches = provider == null || provider.equals(requestProvider);
        return modelMatches && providerMatches;
    }
}
