/**
 * Tollgate's API: the governance model (customers, teams, virtual keys, users, provider and model configs, budgets
 * and rate limits), the check ({@link io.tollgate.BudgetResolver}) and the charge ({@link io.tollgate.UsageTracker}).
 */
package io.tollgate;
