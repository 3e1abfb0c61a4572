package io.tollgate;

import io.tollgate.internal.Checks;

import java.util.List;

/**
 * The top of the hierarchy: teams and virtual keys may belong to a customer. Budgets and one rate limit
 * ({@code null} for none).
 *
 * <p>Immutable and thread-safe.
 */
public record Customer(String id, String name, List<Budget> budgets, RateLimit rateLimit) {

    public Customer {
        Checks.notBlank("Customer.id", id);
        Checks.wellFormed("Customer.name", name);
        budgets = Checks.list("Customer.budgets", budgets);
    }

    public Customer(String id, List<Budget> budgets, RateLimit rateLimit) {
        this(id, id, budgets, rateLimit);
    }
}
