package io.tollgate.spi;

import io.tollgate.Limit;

import java.util.Objects;

/**
 * What one call does to one counter of a request's list: {@code amount} is taken for good, {@code hold} is taken
 * under the call's lease and given back when the lease is settled or expires.
 *
 * <ul>
 *   <li>In {@link GovernanceStore#reserve}: both are taken from the current window only if the whole list has room
 *       (1 kept for a request limit, an estimate held for tokens and cost, 1 held for an in-flight limit).</li>
 *   <li>In {@link GovernanceStore#charge}: the amount is added to the current window; the hold must be zero (what a
 *       charge gives back is named by the lease it {@linkplain CounterOps#settles() settles}).</li>
 * </ul>
 *
 * <p>Immutable and thread-safe.
 *
 * @param limit  the limit whose counter the op changes
 * @param amount what is taken for good
 * @param hold   what is taken until the lease is settled or expires
 */
public record CounterOp(Limit limit, long amount, long hold) {

    public CounterOp {
        Objects.requireNonNull(limit, "CounterOp.limit");
        if (amount < 0) {
            throw new IllegalArgumentException("CounterOp.amount: " + amount + " must not be negative (" + limit + ")");
        }
        if (hold < 0) {
            throw new IllegalArgumentException("CounterOp.hold: " + hold + " must not be negative (" + limit + ")");
        }
        if (amount > Long.MAX_VALUE - hold) {
            throw new IllegalArgumentException("CounterOp.hold: " + hold + " with amount " + amount
                    + " passes 2^63 - 1 (" + limit + ")");
        }
    }

    /** Take {@code amount} for good if the list has room. */
    public static CounterOp take(Limit limit, long amount) {
        return new CounterOp(limit, amount, 0);
    }

    /** Take {@code amount} until the lease is settled or expires, if the list has room. */
    public static CounterOp hold(Limit limit, long amount) {
        return new CounterOp(limit, 0, amount);
    }

    /** Add {@code amount} to the current window. */
    public static CounterOp add(Limit limit, long amount) {
        return new CounterOp(limit, amount, 0);
    }

    /** What the op takes in all: {@code amount + hold}. */
    public long total() {
        return amount + hold;
    }

    /**
     * Whether a counter at {@code used} can take {@code need} more under {@code max}: it must be below its maximum,
     * and a need above zero must fit entirely. A zero need (a token or cost check without an estimate) blocks only
     * once the maximum is reached.
     */
    public static boolean fits(long used, long need, long max) {
        return used < max && need <= max - used;
    }
}
