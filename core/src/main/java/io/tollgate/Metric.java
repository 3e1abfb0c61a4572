package io.tollgate;

/** What a counter counts. */
public enum Metric {
    /** Admitted requests, counted at check time. */
    REQUESTS,
    /** Tokens consumed, charged after the upstream call. */
    TOKENS,
    /** Money spent in nanodollars (see {@link Money}), charged after the upstream call. */
    COST
}
