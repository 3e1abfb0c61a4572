package io.tollgate.spi;

import io.tollgate.Limit;

import java.util.Objects;

/**
 * What one call does to one counter of a request's list.
 *
 * <ul>
 *   <li>In {@link GovernanceStore#reserve}: {@code amount} is what to take from the current window if the whole list
 *       has room (1 for a request limit, an estimate or 0 for tokens and cost); {@code release} is 0.</li>
 *   <li>In {@link GovernanceStore#charge}: {@code amount} is added to the current window; {@code release} is taken
 *       back from the window that starts at {@code releaseWindowStart} (what an earlier reservation took), if that
 *       window is still held, never below zero.</li>
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public record CounterOp(Limit limit, long amount, long release, long releaseWindowStart) {

    public CounterOp {
        Objects.requireNonNull(limit, "CounterOp.limit");
        if (amount < 0) {
            throw new IllegalArgumentException("CounterOp.amount: " + amount + " must not be negative (" + limit + ")");
        }
        if (release < 0) {
            throw new IllegalArgumentException("CounterOp.release: " + release + " must not be negative (" + limit + ")");
        }
    }

    /** Take {@code amount} if the list has room. */
    public static CounterOp reserve(Limit limit, long amount) {
        return new CounterOp(limit, amount, 0, 0);
    }

    /** Add {@code amount} to the current window. */
    public static CounterOp add(Limit limit, long amount) {
        return new CounterOp(limit, amount, 0, 0);
    }

    /** Add {@code amount} to the current window and give back {@code release} to the window reserved from. */
    public static CounterOp settle(Limit limit, long amount, long release, long releaseWindowStart) {
        return new CounterOp(limit, amount, release, releaseWindowStart);
    }

    /**
     * Whether a counter at {@code used} can take {@code amount} more under {@code max}: it must be below its maximum,
     * and an amount above zero must fit entirely. A zero amount (a token or cost check without an estimate) blocks
     * only once the maximum is reached.
     */
    public static boolean fits(long used, long amount, long max) {
        return used < max && amount <= max - used;
    }
}
