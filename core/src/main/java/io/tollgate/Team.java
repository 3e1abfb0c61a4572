package io.tollgate;

import io.tollgate.internal.Checks;

import java.util.List;

/**
 * A team belongs to at most one customer ({@code customerId} may be {@code null}). Budgets and one rate limit
 * ({@code null} for none).
 *
 * <p>Immutable and thread-safe.
 */
public record Team(String id, String name, String customerId, List<Budget> budgets, RateLimit rateLimit) {

    public Team {
        Checks.notBlank("Team.id", id);
        Checks.wellFormed("Team.name", name);
        Checks.optional("Team.customerId", customerId);
        budgets = Checks.list("Team.budgets", budgets);
    }

    public Team(String id, String customerId, List<Budget> budgets, RateLimit rateLimit) {
        this(id, id, customerId, budgets, rateLimit);
    }
}
