package io.tollgate.internal.config;

import io.tollgate.ResetPeriod;
import io.tollgate.WindowSpec;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A window as the format spreads it over four fields of its object: {@code resetPeriod}, {@code calendar},
 * {@code zone} and {@code anchor}, prefixed in a rate limit ({@code tokenResetPeriod}, ...); all null for "no window".
 * Each error lands on the field that causes it.
 */
record WindowFields(String resetPeriod, Boolean calendar, ZoneId zone, Instant anchor) {

    /** The value of a reset period that means "never resets". */
    static final String NO_RESET = "none";

    static final WindowFields NONE = new WindowFields(null, null, null, null);

    /** The fields that give {@code window}, leaving out those that hold their default. */
    static WindowFields of(WindowSpec window) {
        if (window == null) {
            return NONE;
        }
        return switch (window.alignment()) {
            case UNBOUNDED -> new WindowFields(NO_RESET, null, null, null);
            case ROLLING -> new WindowFields(window.period().toString(), null, null,
                    window.anchorMillis() == 0 ? null : window.anchor());
            case CALENDAR -> new WindowFields(window.period().toString(), true,
                    window.zone().equals(ZoneOffset.UTC) ? null : window.zone(), null);
        };
    }

    /**
     * The window these fields give, or null when no reset period is given. {@code prefix} names the fields in
     * messages: {@code ""} for {@code resetPeriod}, {@code "token"} for {@code tokenResetPeriod}.
     */
    WindowSpec toWindow(String prefix) {
        String periodField = field(prefix, "resetPeriod");
        String calendarField = field(prefix, "calendar");
        String zoneField = field(prefix, "zone");
        String anchorField = field(prefix, "anchor");
        boolean aligned = Boolean.TRUE.equals(calendar);
        if (resetPeriod == null || resetPeriod.equals(NO_RESET)) {
            if (aligned) {
                throw new InvalidValue(calendarField, "needs a " + periodField + " of 1d, 1w, 1M, 1Q or 1Y");
            }
            if (zone != null) {
                throw new InvalidValue(zoneField, "applies only to calendar windows, with a " + periodField);
            }
            if (anchor != null) {
                throw new InvalidValue(anchorField, "applies only to rolling windows, with a " + periodField);
            }
            return resetPeriod == null ? null : WindowSpec.unbounded();
        }
        ResetPeriod period;
        try {
            period = ResetPeriod.parse(resetPeriod);
        } catch (IllegalArgumentException e) {
            throw new InvalidValue(periodField, e.getMessage());
        }
        if (!aligned) {
            if (zone != null) {
                throw new InvalidValue(zoneField,
                        "applies only to calendar windows (\"" + calendarField + "\": true)");
            }
            try {
                return anchor == null ? WindowSpec.rolling(period) : WindowSpec.rolling(period, anchor);
            } catch (IllegalArgumentException e) {
                throw new InvalidValue(anchorField, e.getMessage());
            }
        }
        if (anchor != null) {
            throw new InvalidValue(anchorField,
                    "applies only to rolling windows, not with \"" + calendarField + "\": true");
        }
        ZoneId windowZone = zone == null ? ZoneOffset.UTC : zone;
        if (zone != null) {
            // try the zone with a period that is always fine, so that each error lands on its own field
            try {
                WindowSpec.calendar(ResetPeriod.of(0, 1, 0), zone);
            } catch (IllegalArgumentException e) {
                throw new InvalidValue(zoneField, e.getMessage());
            }
        }
        try {
            return WindowSpec.calendar(period, windowZone);
        } catch (IllegalArgumentException e) {
            throw new InvalidValue(periodField, e.getMessage());
        }
    }

    private static String field(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }
}
