package io.tollgate;

/** What {@link UsageTracker} did with one usage update. */
public enum ChargeOutcome {
    /** Charged at every level at once. */
    CHARGED,
    /** This request id and chunk were charged before, by this or another replica: nothing charged again. */
    DUPLICATE,
    /** The update carried nothing to charge under the streaming rules, or no limit applies. */
    NOTHING_TO_CHARGE
}
