package io.tollgate.internal;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/** Argument checks whose messages name the field and the bad value. */
public final class Checks {

    private Checks() {
    }

    public static String notBlank(String field, String value) {
        if (value == null) {
            throw new IllegalArgumentException(field + ": must be set");
        }
        if (value.isBlank()) {
            throw new IllegalArgumentException(field + ": \"" + value + "\" must not be empty");
        }
        return value;
    }

    /** Null stays null; anything else must be non-blank. */
    public static String optional(String field, String value) {
        return value == null ? null : notBlank(field, value);
    }

    public static long notNegative(String field, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(field + ": " + value + " must not be negative");
        }
        return value;
    }

    public static long positive(String field, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + ": " + value + " must be positive");
        }
        return value;
    }

    /** An immutable copy with no null element. */
    public static <T> List<T> list(String field, Collection<T> values) {
        if (values == null) {
            return List.of();
        }
        int i = 0;
        for (T value : values) {
            Objects.requireNonNull(value, field + "[" + i + "]");
            i++;
        }
        return List.copyOf(values);
    }
}
