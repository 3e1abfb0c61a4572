package io.tollgate;

/**
 * The root of every exception Tollgate throws on its own account. Denials on the hot path are not exceptions: they
 * are {@link Decision}s. Bad arguments to constructors and factories are {@link IllegalArgumentException}s whose
 * message names the field and the value.
 */
public class TollgateException extends RuntimeException {

    public TollgateException(String message) {
        super(message);
    }

    public TollgateException(String message, Throwable cause) {
        super(message, cause);
    }
}
