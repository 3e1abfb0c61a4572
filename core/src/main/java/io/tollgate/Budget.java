package io.tollgate;

import java.time.ZoneId;
import java.util.Objects;

/**
 * A maximum spend over a window. A holder may have several (a daily and a monthly budget, say). A budget whose
 * window is {@linkplain WindowSpec#unbounded() unbounded} never resets: a prepaid or lifetime budget. {@code leased}
 * marks it for leased admission (see {@link Limit#leased()}).
 *
 * <p>Immutable and thread-safe.
 */
public record Budget(Money max, WindowSpec window, boolean leased) {

    public Budget {
        Objects.requireNonNull(max, "Budget.max");
        Objects.requireNonNull(window, "Budget.window");
        if (max.signum() <= 0) {
            throw new IllegalArgumentException("Budget.max: " + max + " must be positive");
        }
    }

    /** A budget not marked for leased admission. */
    public Budget(Money max, WindowSpec window) {
        this(max, window, false);
    }

    /** This budget marked (or not) for leased admission (see {@link Limit#leased()}). */
    public Budget leased(boolean marked) {
        return new Budget(max, window, marked);
    }

    /** A budget whose windows roll every {@code resetPeriod} from the epoch, e.g. {@code "1d"} or {@code "1h30m"}. */
    public static Budget rolling(Money max, String resetPeriod) {
        return new Budget(max, WindowSpec.rolling(ResetPeriod.parse(resetPeriod)));
    }

    /** A budget aligned to the calendar in {@code zone}: {@code "1d"}, {@code "1w"}, {@code "1M"}, {@code "1Q"}, {@code "1Y"}. */
    public static Budget calendar(Money max, String resetPeriod, ZoneId zone) {
        return new Budget(max, WindowSpec.calendar(ResetPeriod.parse(resetPeriod), zone));
    }

    /** A budget that never resets. */
    public static Budget lifetime(Money max) {
        return new Budget(max, WindowSpec.unbounded());
    }
}
