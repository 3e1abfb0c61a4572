package io.tollgate;

/**
 * A store could not answer: it timed out, lost its connection, or refused the command. Raised within the store's
 * command timeout, never after it. What a gateway does then is its failure policy's decision.
 */
public class StoreException extends TollgateException {

    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public static StoreException timeout(String store, String operation, java.time.Duration timeout, Throwable cause) {
        return new StoreException(store + ": " + operation + " did not complete within " + timeout, cause);
    }

    public static StoreException unavailable(String store, String operation, Throwable cause) {
        return new StoreException(store + ": " + operation + " failed: " + cause.getMessage(), cause);
    }
}
