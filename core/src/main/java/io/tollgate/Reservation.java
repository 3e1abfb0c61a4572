package io.tollgate;

import java.util.List;

/**
 * What an admitted check took: the request's resolved limits, the amount taken from each and the window it was taken
 * from. Pass it to the charge ({@link UsageUpdate.Builder#reservation}) so that the charge uses exactly the limits
 * that were checked, does not count the request a second time, and settles the estimates.
 *
 * <p>Immutable and thread-safe. Opaque: its content is for {@link UsageTracker}.
 */
public final class Reservation {

    private final List<Limit> limits;
    private final long[] amounts;
    private final long[] windowStarts;

    Reservation(List<Limit> limits, long[] amounts, long[] windowStarts) {
        this.limits = limits;
        this.amounts = amounts;
        this.windowStarts = windowStarts;
    }

    List<Limit> limits() {
        return limits;
    }

    long amount(int index) {
        return amounts[index];
    }

    long windowStart(int index) {
        return windowStarts[index];
    }

    @Override
    public String toString() {
        return "Reservation[" + limits.size() + " limits]";
    }
}
