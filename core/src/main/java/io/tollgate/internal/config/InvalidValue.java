package io.tollgate.internal.config;

/**
 * A value the configuration format refuses. Thrown while Jackson binds, so Jackson adds the path of the object being
 * read; {@link #field()} goes on from there ({@code ""} for the object itself, {@code "max"},
 * {@code "allowedModels[1]"}). The message never holds a secret.
 */
final class InvalidValue extends RuntimeException {

    private final String field;

    /** The value being read is wrong. */
    InvalidValue(String message) {
        this("", message);
    }

    /** A field of the object being converted is wrong. */
    InvalidValue(String field, String message) {
        // no stack trace: this is a report about the input, caught and rewritten by ConfigErrors
        super(message, null, false, false);
        this.field = field;
    }

    String field() {
        return field;
    }
}
