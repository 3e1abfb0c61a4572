package io.tollgate.spi;

import io.tollgate.Limit;

import java.util.AbstractList;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * The ops of one store call as the core builds them: one resolved list of limits, shared by every call of the same
 * request shape (so a store may cache what it derives from it, keyed by the list's identity), with each limit's
 * amount and hold, and the leases the call takes or settles. As a {@code List<CounterOp>} it creates each op on
 * demand; a store that cares for speed reads the arrays through {@link #amount} and {@link #hold} instead.
 *
 * <p>A charge may {@link #settles() settle} a lease: give back every hold taken under it, to the windows it was taken
 * from, once, unless it has expired (then it was given back already). A charge has no holds.
 *
 * <p>Immutable and thread-safe (the arrays are never written after construction).
 */
public final class CounterOps extends AbstractList<CounterOp> implements RandomAccess {

    private static final long[] NONE = new long[0];
    private static final CounterOps EMPTY = new CounterOps(List.of(), NONE, NONE, false, null);

    private final List<Limit> limits;
    private final long[] amounts;
    private final long[] holds;
    private final boolean shared;
    private final String settles;

    private CounterOps(List<Limit> limits, long[] amounts, long[] holds, boolean shared, String settles) {
        this.limits = limits;
        this.amounts = amounts;
        this.holds = holds;
        this.shared = shared;
        this.settles = settles;
    }

    /**
     * Ops over {@code limits} (used as given, not copied: pass an immutable list) with an amount and a hold per limit.
     *
     * @throws IllegalArgumentException if the arrays do not have one entry per limit, or an entry is negative
     */
    public static CounterOps of(List<Limit> limits, long[] amounts, long[] holds) {
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(amounts, "amounts");
        Objects.requireNonNull(holds, "holds");
        if (amounts.length != limits.size() || holds.length != limits.size()) {
            throw new IllegalArgumentException("CounterOps: " + limits.size() + " limits need as many amounts and holds, "
                    + "got " + amounts.length + " and " + holds.length);
        }
        for (int i = 0; i < amounts.length; i++) {
            if (amounts[i] < 0 || holds[i] < 0 || amounts[i] > Long.MAX_VALUE - holds[i]) {
                // the single op's constructor says what is wrong
                new CounterOp(Objects.requireNonNull(limits.get(i), "limits[" + i + "]"), amounts[i], holds[i]);
            }
        }
        return new CounterOps(limits, amounts, holds, true, null);
    }

    /** No op at all; with {@link #settling} a charge that only gives a lease back. */
    public static CounterOps empty() {
        return EMPTY;
    }

    /** {@code ops} as they are if they are already {@code CounterOps}, else their arrays. */
    public static CounterOps from(List<CounterOp> ops) {
        Objects.requireNonNull(ops, "ops");
        if (ops instanceof CounterOps counterOps) {
            return counterOps;
        }
        int n = ops.size();
        Limit[] limits = new Limit[n];
        long[] amounts = new long[n];
        long[] holds = new long[n];
        for (int i = 0; i < n; i++) {
            CounterOp op = Objects.requireNonNull(ops.get(i), "ops[" + i + "]");
            limits[i] = op.limit();
            amounts[i] = op.amount();
            holds[i] = op.hold();
        }
        return new CounterOps(List.of(limits), amounts, holds, false, null);
    }

    /** These ops, giving back the lease {@code lease} (null for none). */
    public CounterOps settling(String lease) {
        return new CounterOps(limits, amounts, holds, shared, lease);
    }

    /** The resolved list; the same object for every call of the same request shape when {@link #sharesLimits()}. */
    public List<Limit> limits() {
        return limits;
    }

    /**
     * Whether {@link #limits()} is a list the caller keeps and passes again (the core's resolved lists), so that what a
     * store derives from it is worth keeping; false for ops converted from a plain list.
     */
    public boolean sharesLimits() {
        return shared;
    }

    public long amount(int index) {
        return amounts[index];
    }

    public long hold(int index) {
        return holds[index];
    }

    /** Whether any op holds something, so that the call takes a lease. */
    public boolean holdsAny() {
        for (long hold : holds) {
            if (hold > 0) {
                return true;
            }
        }
        return false;
    }

    /** The lease this call gives back; null for none. */
    public String settles() {
        return settles;
    }

    @Override
    public CounterOp get(int index) {
        return new CounterOp(limits.get(index), amounts[index], holds[index]);
    }

    @Override
    public int size() {
        return limits.size();
    }
}
