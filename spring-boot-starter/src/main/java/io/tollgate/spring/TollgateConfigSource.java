package io.tollgate.spring;

import io.tollgate.GovernanceConfig;

import java.util.function.Supplier;

/**
 * The limits in force, for the resolver and the tracker: inline text, a watched file, MariaDB, or none.
 * {@link #get()} is a volatile read, cheap enough for every request.
 *
 * <p>Thread-safe. Closing stops the watching, if any.
 */
public interface TollgateConfigSource extends Supplier<GovernanceConfig>, AutoCloseable {

    /** Where the limits come from, for the health and actuator endpoints (a file's path, "inline", ...). */
    String description();

    /**
     * The version of {@link #get()}: the database's configuration version, a count of the file's reloads, or 0 for
     * a configuration that never changes.
     */
    long version();

    @Override
    void close();

    /** A configuration that never changes. */
    static TollgateConfigSource fixed(GovernanceConfig config, String description) {
        return new TollgateConfigSource() {
            @Override
            public GovernanceConfig get() {
                return config;
            }

            @Override
            public String description() {
                return description;
            }

            @Override
            public long version() {
                return 0;
            }

            @Override
            public void close() {
            }
        };
    }
}
