package io.tollgate;

/** What a counter counts. */
public enum Metric {
    /** Admitted requests, counted at check time. */
    REQUESTS,
    /** Tokens consumed, charged after the upstream call. */
    TOKENS,
    /** Money spent in nanodollars (see {@link Money}), charged after the upstream call. */
    COST,
    /**
     * Requests in flight at once: one taken at check time and held under the reservation's lease, given back when
     * the request ends (its final charge) or when the lease expires (a replica that died mid-request). Its counter
     * has no window.
     */
    IN_FLIGHT
}
