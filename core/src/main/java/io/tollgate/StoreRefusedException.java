package io.tollgate;

/**
 * A store answered, but refused the call for a reason that retrying will not change: a script or server error, a
 * command the server does not allow, an argument it cannot take. Not an outage: a resilient decorator passes it to
 * the caller instead of counting it against the store's availability, so one bad call never opens a circuit for
 * everyone.
 */
public class StoreRefusedException extends TollgateException {

    public StoreRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
