package io.tollgate.resilience;

/**
 * What a {@link ResilientGovernanceStore} answers for a limit while its primary store cannot answer (timed out,
 * unreachable, or its circuit is open). Set per deployment with {@link ResilientStoreOptions#policy()}, overridable
 * per limit with {@link ResilientStoreOptions.Builder#policyFor}. Whatever the policy, usage charged meanwhile is
 * buffered and replayed when the primary answers again, and every decision so made is
 * {@linkplain io.tollgate.Decision#degraded() degraded}.
 */
public enum FailurePolicy {
    /**
     * Admit: the limit is read as unused ({@code used} 0, in the window of the local clock). Availability first: a
     * gateway keeps serving, and no limit holds until the primary returns. The request slots and estimates such
     * checks take are buffered with the charges, so the primary counts them afterwards.
     */
    FAIL_OPEN,
    /**
     * Deny with {@link io.tollgate.Outcome#STORE_UNAVAILABLE} (HTTP 503) and a short {@code Retry-After}. A request
     * with any limit under this policy is denied. Limits first: nothing passes that the primary could not count.
     */
    FAIL_CLOSED,
    /**
     * Each replica admits its share of the limit, {@code max / expectedReplicas} (at least 1), counted in this
     * replica's memory on the windows of its own clock, atomically across the request's limits like the primary
     * would. With every replica doing the same, at most about {@code max} pass in a window of the outage in total.
     */
    LOCAL
}
