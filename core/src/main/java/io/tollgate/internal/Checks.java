package io.tollgate.internal;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Argument checks whose messages name the field and the bad value, never a secret.
 *
 * <p>Every id, name and other text of the model goes through {@link #notBlank}, {@link #optional} or
 * {@link #wellFormed}, which refuse text that is not well-formed UTF-16: an unpaired surrogate has no UTF-8 form,
 * so once encoded (as a Redis key, a SQL parameter, a log line) it becomes {@code ?} and {@code "a\uD800"} would
 * share every counter with {@code "a?"}. Secrets go through {@link #secret}, which says what is wrong without
 * showing any of the value.
 */
public final class Checks {

    /** Longer values are cut in messages: a message names a value, it does not reproduce a file. */
    public static final int MAX_QUOTED_LENGTH = 80;

    /** What {@link #secret} says of a secret that is not well-formed, for callers that report it their own way. */
    public static final String NOT_WELL_FORMED_SECRET =
            "is not well-formed text (it has an unpaired surrogate; a secret is never shown)";

    private Checks() {
    }

    /** Set, not blank and {@linkplain #wellFormed well-formed}: ids and the names that become parts of keys. */
    public static String notBlank(String field, String value) {
        if (value == null) {
            throw new IllegalArgumentException(field + ": must be set");
        }
        if (value.isBlank()) {
            throw new IllegalArgumentException(field + ": " + quote(value) + " must not be empty");
        }
        return wellFormed(field, value);
    }

    /** Null stays null; anything else must be {@linkplain #notBlank non-blank and well-formed}. */
    public static String optional(String field, String value) {
        return value == null ? null : notBlank(field, value);
    }

    /**
     * Null, or well-formed UTF-16: every surrogate is half of a pair, a high one followed by a low one. The message
     * shows the unpaired surrogate as an escape such as <code>&#92;uD800</code>, never as itself.
     */
    public static String wellFormed(String field, String value) {
        int at = value == null ? -1 : unpairedSurrogate(value);
        if (at >= 0) {
            throw new IllegalArgumentException(field + ": " + quote(value) + " is not well-formed text (unpaired "
                    + "surrogate " + escape(value.charAt(at)) + " at index " + at + ")");
        }
        return value;
    }

    /**
     * A secret, {@linkplain #notBlank set, non-blank and well-formed}, checked without showing any of it: not even
     * the unpaired surrogate, which is a character of the secret.
     */
    public static String secret(String field, String value) {
        if (value == null) {
            throw new IllegalArgumentException(field + ": must be set");
        }
        if (value.isBlank()) {
            throw new IllegalArgumentException(field + ": must not be empty");
        }
        if (!isWellFormed(value)) {
            throw new IllegalArgumentException(field + ": " + NOT_WELL_FORMED_SECRET);
        }
        return value;
    }

    /** Null stays null; anything else must be a {@linkplain #secret secret}. */
    public static String optionalSecret(String field, String value) {
        return value == null ? null : secret(field, value);
    }

    /** Whether every surrogate of the text is half of a pair. */
    public static boolean isWellFormed(String text) {
        return unpairedSurrogate(text) < 0;
    }

    /** The index of the first unpaired surrogate, or -1. */
    private static int unpairedSurrogate(String text) {
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            }
        }
        return -1;
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

    /** Text as a message shows it: {@link #printable(String)}, in double quotes. */
    public static String quote(String text) {
        return '"' + printable(text) + '"';
    }

    /**
     * Text fit for a message: cut after {@value #MAX_QUOTED_LENGTH} characters, with quotes, backslashes, control
     * characters and unpaired surrogates escaped as in JSON ({@code \n}, <code>&#92;uD800</code>), so that a message
     * is always well-formed, fits on one line and has a bounded length.
     */
    public static String printable(String text) {
        int end = text.length();
        boolean cut = end > MAX_QUOTED_LENGTH;
        if (cut) {
            end = MAX_QUOTED_LENGTH;
            // never split a surrogate pair: its first half would show as unpaired
            if (Character.isHighSurrogate(text.charAt(end - 1))) {
                end--;
            }
        }
        StringBuilder shown = new StringBuilder(end + 8);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> shown.append("\\\"");
                case '\\' -> shown.append("\\\\");
                case '\n' -> shown.append("\\n");
                case '\r' -> shown.append("\\r");
                case '\t' -> shown.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7F || (Character.isSurrogate(c) && !pairedAt(text, i))) {
                        shown.append(escape(c));
                    } else {
                        shown.append(c);
                    }
                }
            }
        }
        return cut ? shown.append("...").toString() : shown.toString();
    }

    /** A character as a Java and JSON escape, such as <code>&#92;uD800</code>. */
    public static String escape(char c) {
        return String.format("\\u%04X", (int) c);
    }

    /** Whether the surrogate at {@code i} is half of a well-formed pair. */
    private static boolean pairedAt(String text, int i) {
        char c = text.charAt(i);
        return Character.isHighSurrogate(c)
                ? i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))
                : i > 0 && Character.isHighSurrogate(text.charAt(i - 1));
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
