package io.tollgate;

import io.tollgate.internal.Checks;

import java.util.List;

/**
 * An end user identity passed beside the virtual key. Budgets and one rate limit ({@code null} for none).
 *
 * <p>Immutable and thread-safe.
 */
public record User(String id, List<Budget> budgets, RateLimit rateLimit) {

    public User {
        Checks.notBlank("User.id", id);
        budgets = Checks.list("User.budgets", budgets);
    }
}
