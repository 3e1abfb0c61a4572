package io.tollgate;

/**
 * A configuration file could not be read or is invalid. The message starts with the path inside the file, such as
 * {@code virtualKeys[2].budgets[0].resetPeriod: "1x" is not a period}.
 */
public class ConfigException extends TollgateException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
