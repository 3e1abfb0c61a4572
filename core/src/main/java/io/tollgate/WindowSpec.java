package io.tollgate;

import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a limit's windows are laid out in time: rolling from an anchor, aligned to the calendar of a zone, or one
 * window that never ends.
 *
 * <ul>
 *   <li>{@link #rolling(ResetPeriod, Instant) Rolling}: window {@code k} (any integer) is
 *       {@code [anchor + k*period, anchor + (k+1)*period)}. Months are added in UTC calendar arithmetic, so a
 *       {@code 1M} window anchored on 31 January runs to the last day of February, then to 31 March; days count as
 *       24 hours, so only periods with months have windows of varying length.</li>
 *   <li>{@link #calendar(ResetPeriod, ZoneId) Calendar}: local days, weeks from Monday, months, quarters or years of a
 *       zone, with their true lengths (a day across a DST change lasts 23 or 25 hours).</li>
 *   <li>{@link #unbounded() Unbounded}: a single window from the epoch that never ends, for budgets with no reset.</li>
 * </ul>
 *
 * <p>Every replica computes the same boundaries from the same spec, so a store can key counters by window start.
 * Windows have millisecond resolution; near the ends of the {@code long} millisecond range they are clipped.
 *
 * <p>Instances are immutable in value and thread-safe. {@link #windowAt(long)} keeps the last window it computed in a
 * volatile field, which is safe to race on: every thread computes the same window for the same instant.
 */
public final class WindowSpec {

    /** How windows are aligned. */
    public enum Alignment {
        /** Repeating every period from an anchor. */
        ROLLING,
        /** Aligned to local midnight, Monday, the 1st, the quarter or 1 January of a zone. */
        CALENDAR,
        /** One window that never ends. */
        UNBOUNDED
    }

    private static final Pattern ID_CHARS = Pattern.compile("[A-Za-z0-9@:/_+.-]+");
    private static final String NONE = "none";
    private static final String CALENDAR_PREFIX = "cal:";
    private static final Window FOREVER = new Window(0, Long.MAX_VALUE);
    private static final WindowSpec UNBOUNDED = new WindowSpec(Alignment.UNBOUNDED, null, 0, null);

    private final Alignment alignment;
    private final ResetPeriod period;
    private final long anchorMillis;
    private final ZoneId zone;
    private final String id;
    /** Window length for rolling windows without months, else 0. */
    private final long fixedLengthMillis;
    /** Calendar-arithmetic rolling windows only: the anchor in UTC and the part of each step that is not months. */
    private final OffsetDateTime anchorUtc;
    private final long stepMillisBesideMonths;
    /** Consecutive calls almost always land in the same window: reuse it instead of recomputing. */
    private volatile Window last;

    private WindowSpec(Alignment alignment, ResetPeriod period, long anchorMillis, ZoneId zone) {
        this.alignment = alignment;
        this.period = period;
        this.anchorMillis = anchorMillis;
        this.zone = zone;
        boolean rolling = alignment == Alignment.ROLLING;
        long stepBesideMonths = rolling ? period.days() * ResetPeriod.DAY_MILLIS + period.millis() : 0;
        this.fixedLengthMillis = rolling && period.months() == 0 ? stepBesideMonths : 0;
        this.stepMillisBesideMonths = stepBesideMonths;
        this.anchorUtc = rolling && period.months() > 0
                ? OffsetDateTime.ofInstant(Instant.ofEpochMilli(anchorMillis), ZoneOffset.UTC)
                : null;
        this.id = switch (alignment) {
            case ROLLING -> anchorMillis == 0 ? period.toString() : period + "@" + anchorMillis;
            case CALENDAR -> CALENDAR_PREFIX + period + "@" + zone.getId();
            case UNBOUNDED -> NONE;
        };
        this.last = alignment == Alignment.UNBOUNDED ? FOREVER : null;
    }

    /**
     * Windows that start at the anchor and repeat every period, before and after it. The anchor is used to the
     * millisecond.
     */
    public static WindowSpec rolling(ResetPeriod period, Instant anchor) {
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(anchor, "anchor");
        // as far from 1970 as the longest period is long: every boundary of a window of a time from 1970 to then
        // stays below 2^53 ms (see ResetPeriod.MAX_MILLIS)
        long seconds = anchor.getEpochSecond();
        if (seconds > ResetPeriod.MAX_MILLIS / 1000 || seconds < -ResetPeriod.MAX_MILLIS / 1000) {
            throw new IllegalArgumentException("anchor " + anchor + " is too far from 1970: at most about 71,000 "
                    + "years either way");
        }
        long millis = anchor.toEpochMilli();
        return new WindowSpec(Alignment.ROLLING, period, millis, null);
    }

    /** Windows that repeat every period from the epoch, so that every replica computes the same boundaries. */
    public static WindowSpec rolling(ResetPeriod period) {
        return rolling(period, Instant.EPOCH);
    }

    /**
     * Windows aligned to the calendar of a zone: {@code 1d} local midnight to midnight, {@code 1w} from Monday,
     * {@code 1M} from the 1st, {@code 1Q} from 1 January, 1 April, 1 July and 1 October, {@code 1Y} from 1 January.
     * Where local midnight does not exist because of a DST gap, the window starts at the first local time after it.
     *
     * @throws IllegalArgumentException for any other period, or a zone id with characters unfit for key names
     */
    public static WindowSpec calendar(ResetPeriod period, ZoneId zone) {
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(zone, "zone");
        boolean allowed = period.millis() == 0 && (period.months() == 0
                ? period.days() == 1 || period.days() == 7
                : period.days() == 0 && (period.months() == 1 || period.months() == 3 || period.months() == 12));
        if (!allowed) {
            throw new IllegalArgumentException(
                    "calendar alignment needs a period of 1d, 1w, 1M, 1Q or 1Y, not \"" + period + "\"");
        }
        if (!ID_CHARS.matcher(zone.getId()).matches()) {
            throw new IllegalArgumentException("zone id \"" + zone.getId() + "\" has characters unfit for key names");
        }
        return new WindowSpec(Alignment.CALENDAR, period, 0, zone);
    }

    /** A single window from the epoch that never ends. */
    public static WindowSpec unbounded() {
        return UNBOUNDED;
    }

    /**
     * Reads the text of {@link #id()} back.
     *
     * @throws IllegalArgumentException if the text is not a window spec id, quoting it
     */
    public static WindowSpec parseId(String id) {
        Objects.requireNonNull(id, "id");
        if (id.equals(NONE)) {
            return UNBOUNDED;
        }
        try {
            if (id.startsWith(CALENDAR_PREFIX)) {
                int at = id.indexOf('@');
                if (at < 0) {
                    throw new IllegalArgumentException("no zone after '@'");
                }
                return calendar(ResetPeriod.parse(id.substring(CALENDAR_PREFIX.length(), at)),
                        ZoneId.of(id.substring(at + 1)));
            }
            int at = id.indexOf('@');
            if (at < 0) {
                return rolling(ResetPeriod.parse(id));
            }
            long anchor = Long.parseLong(id.substring(at + 1));
            return rolling(ResetPeriod.parse(id.substring(0, at)), Instant.ofEpochMilli(anchor));
        } catch (IllegalArgumentException | DateTimeException e) {
            throw new IllegalArgumentException("\"" + id + "\" is not a window spec id (expected e.g. 1h30m, "
                    + "1d@1700000000000, cal:1M@Europe/Paris or none): " + e.getMessage(), e);
        }
    }

    /** The window containing the instant. */
    public Window windowAt(Instant instant) {
        return windowAt(instant.toEpochMilli());
    }

    /** The window containing the instant, given in epoch milliseconds. */
    public Window windowAt(long epochMillis) {
        Window cached = last;
        if (cached != null && cached.contains(epochMillis)) {
            return cached;
        }
        Window computed = compute(epochMillis);
        last = computed;
        return computed;
    }

    /**
     * The window containing the instant, preceded by up to {@code before} windows and followed by up to
     * {@code after} windows, in order and contiguous. Fewer are returned where time runs out: an unbounded spec
     * always gives its one window.
     */
    public List<Window> windowsAround(long epochMillis, int before, int after) {
        if (before < 0 || after < 0) {
            throw new IllegalArgumentException("before and after must not be negative, got " + before + ", " + after);
        }
        Window current = windowAt(epochMillis);
        if (alignment == Alignment.UNBOUNDED) {
            return List.of(current);
        }
        List<Window> windows = new ArrayList<>(before + 1 + after);
        // neighbours go through compute(), not windowAt(), so they do not evict the current window from the cache
        for (Window w = current; windows.size() < before && w.startMillis() != Long.MIN_VALUE; ) {
            w = compute(w.startMillis() - 1);
            windows.add(w);
        }
        Collections.reverse(windows);
        windows.add(current);
        for (Window w = current; windows.size() < before + 1 + after && !w.isUnbounded(); ) {
            w = compute(w.endMillis());
            windows.add(w);
        }
        return Collections.unmodifiableList(windows);
    }

    /** The period, or null for an unbounded spec. */
    public ResetPeriod period() {
        return period;
    }

    /** How the windows are aligned. */
    public Alignment alignment() {
        return alignment;
    }

    /** Where rolling windows start, or null if not rolling. */
    public Instant anchor() {
        return alignment == Alignment.ROLLING ? Instant.ofEpochMilli(anchorMillis) : null;
    }

    /**
     * Where rolling windows start, in epoch milliseconds.
     *
     * @throws IllegalStateException if not rolling
     */
    public long anchorMillis() {
        if (alignment != Alignment.ROLLING) {
            throw new IllegalStateException(id + " is not rolling, so it has no anchor");
        }
        return anchorMillis;
    }

    /** The zone of calendar windows, or null if not calendar-aligned. */
    public ZoneId zone() {
        return zone;
    }

    /**
     * Whether all windows have the same length: rolling with a period without months. Such windows are pure
     * arithmetic: the window of {@code t} starts at {@code t - floorMod(t - anchorMillis(), fixedLengthMillis())}.
     */
    public boolean isFixedLength() {
        return fixedLengthMillis > 0;
    }

    /**
     * The length of every window, days counted as 24 hours.
     *
     * @throws IllegalStateException unless {@link #isFixedLength()}
     */
    public long fixedLengthMillis() {
        if (fixedLengthMillis == 0) {
            throw new IllegalStateException(id + " has windows of varying length");
        }
        return fixedLengthMillis;
    }

    /**
     * Short canonical text, stable across versions, used in store key names and snapshots: {@code 1h30m},
     * {@code 1h@1700000000000} (rolling, anchor given only when not the epoch), {@code cal:1M@Europe/Paris},
     * {@code none}. Only characters {@code [A-Za-z0-9@:/_+.-]}; {@link #parseId(String)} reads it back.
     */
    public String id() {
        return id;
    }

    @Override
    public String toString() {
        return id;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WindowSpec other
                && alignment == other.alignment
                && anchorMillis == other.anchorMillis
                && Objects.equals(period, other.period)
                && Objects.equals(zone, other.zone);
    }

    @Override
    public int hashCode() {
        return Objects.hash(alignment, period, anchorMillis, zone);
    }

    private Window compute(long t) {
        // the last representable instant belongs to the last window, which is clipped to end "never"
        long at = Math.min(t, Long.MAX_VALUE - 1);
        return switch (alignment) {
            case UNBOUNDED -> FOREVER;
            case ROLLING -> fixedLengthMillis > 0 ? fixedWindow(at) : steppedWindow(at);
            case CALENDAR -> calendarWindow(at);
        };
    }

    private Window fixedWindow(long t) {
        long p = fixedLengthMillis;
        long offset = t - anchorMillis;
        boolean overflowed = ((t ^ anchorMillis) & (t ^ offset)) < 0;
        long intoWindow = overflowed
                ? BigInteger.valueOf(t).subtract(BigInteger.valueOf(anchorMillis)).mod(BigInteger.valueOf(p)).longValue()
                : Math.floorMod(offset, p);
        long start = t - intoWindow;
        long end = t + (p - intoWindow);
        return new Window(start > t ? Long.MIN_VALUE : start, end <= t ? Long.MAX_VALUE : end);
    }

    private Window steppedWindow(long t) {
        // estimate k from the mean length, then step: calendar months stray from the mean by a few days at most
        long k = (long) Math.floor(((double) t - anchorMillis) / period.approximateMillis());
        long start = boundary(k);
        while (start > t) {
            start = boundary(--k);
        }
        long end = boundary(k + 1);
        while (end <= t) {
            start = end;
            end = boundary(++k + 1);
        }
        return new Window(start, end);
    }

    /** Start of rolling window k, clipped to the long range. */
    private long boundary(long k) {
        try {
            long monthsAdded = anchorUtc.plusMonths(Math.multiplyExact(k, (long) period.months()))
                    .toInstant().toEpochMilli();
            return Math.addExact(monthsAdded, Math.multiplyExact(k, stepMillisBesideMonths));
        } catch (ArithmeticException | DateTimeException e) {
            return k < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    private Window calendarWindow(long t) {
        LocalDate date = LocalDate.ofInstant(Instant.ofEpochMilli(t), zone);
        LocalDate first = switch (period.months()) {
            case 0 -> period.days() == 1 ? date : date.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
            case 1 -> date.withDayOfMonth(1);
            case 3 -> LocalDate.of(date.getYear(), date.getMonth().firstMonthOfQuarter(), 1);
            default -> date.withDayOfYear(1);
        };
        long start = startOfDay(first, Long.MIN_VALUE);
        LocalDate next = nextCalendarStart(first);
        long end = startOfDay(next, Long.MAX_VALUE);
        // a clock set back across midnight (St John's fell back at 00:01 until 2010) shows the old date again
        // after the next day has begun: those instants belong to the next day
        while (end <= t) {
            start = end;
            next = nextCalendarStart(next);
            end = startOfDay(next, Long.MAX_VALUE);
        }
        return new Window(start, end);
    }

    private LocalDate nextCalendarStart(LocalDate first) {
        return first.plusMonths(period.months()).plusDays(period.days());
    }

    private long startOfDay(LocalDate date, long clipped) {
        try {
            return date.atStartOfDay(zone).toInstant().toEpochMilli();
        } catch (ArithmeticException | DateTimeException e) {
            return clipped;
        }
    }
}
