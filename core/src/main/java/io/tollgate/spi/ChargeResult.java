package io.tollgate.spi;

/** The outcome of {@link GovernanceStore#charge}. */
public enum ChargeResult {
    /** Every amount was applied, at every level at once. */
    APPLIED,
    /** The idempotency key was seen before: nothing was applied. */
    DUPLICATE
}
