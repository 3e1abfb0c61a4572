package io.tollgate;

import java.util.List;

/**
 * What an admitted check took: the request's resolved limits, the amount taken from each, and the store's lease over
 * what it holds until the charge (token and cost estimates, in-flight slots). Pass it to the charge
 * ({@link UsageUpdate.Builder#reservation}) so that the charge uses exactly the limits that were checked, does not
 * count the request a second time, and gives back what the lease holds; a reservation nobody settles is given back by
 * the store when its lease expires.
 *
 * <p>Immutable and thread-safe. Opaque: its content is for {@link UsageTracker}.
 */
public final class Reservation {

    private final List<Limit> limits;
    private final long[] taken;
    private final String lease;

    Reservation(List<Limit> limits, long[] taken, String lease) {
        this.limits = limits;
        this.taken = taken;
        this.lease = lease;
    }

    List<Limit> limits() {
        return limits;
    }

    /** What the check took from the limit at {@code index}, kept and held together. */
    long taken(int index) {
        return taken[index];
    }

    /** The store's lease over what the check holds; null when it holds nothing. */
    String lease() {
        return lease;
    }

    @Override
    public String toString() {
        return "Reservation[" + limits.size() + " limits" + (lease == null ? "" : ", leased") + "]";
    }
}
