package io.tollgate.jdbc.internal;

import java.sql.SQLException;

/** Recognises database errors by code rather than by message. Stateless and thread-safe. */
public final class SqlErrors {

    /** MariaDB ER_LOCK_DEADLOCK: the transaction was chosen as a deadlock victim and rolled back. */
    private static final int DEADLOCK = 1213;
    /** MariaDB ER_LOCK_WAIT_TIMEOUT: a row lock was not granted within innodb_lock_wait_timeout. */
    private static final int LOCK_WAIT_TIMEOUT = 1205;

    private SqlErrors() {
    }

    /** Whether a deadlock or lock wait timeout caused {@code error}, in which case the transaction may be retried. */
    public static boolean isLockConflict(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql) {
                for (SQLException e = sql; e != null; e = e.getNextException()) {
                    if (e.getErrorCode() == DEADLOCK || e.getErrorCode() == LOCK_WAIT_TIMEOUT
                            || "40001".equals(e.getSQLState())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * The innermost cause's class and message: the driver's own words ("Connection refused", "Duplicate entry ..."),
     * without the statement text and arguments that Jdbi adds around them.
     */
    public static String describe(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
