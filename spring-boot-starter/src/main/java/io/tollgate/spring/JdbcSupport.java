package io.tollgate.spring;

import io.tollgate.GovernanceConfig;
import io.tollgate.TollgateListener;
import io.tollgate.jdbc.ConfigWatcher;
import io.tollgate.jdbc.JdbcConfigStore;
import io.tollgate.jdbc.JdbcSnapshotSource;
import io.tollgate.jdbc.SnapshotFlusher;
import io.tollgate.jdbc.TollgateSchema;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.SnapshotSource;
import io.tollgate.spring.TollgateProperties.Config;
import io.tollgate.spring.TollgateProperties.Flush;
import org.springframework.util.ClassUtils;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Everything that needs {@code tollgate-jdbc-store}, kept in one class that is loaded only when that module is on the
 * class path.
 */
final class JdbcSupport {

    private JdbcSupport() {
    }

    static boolean present() {
        return ClassUtils.isPresent("io.tollgate.jdbc.JdbcConfigStore", JdbcSupport.class.getClassLoader());
    }

    static TollgateConfigSource configSource(DataSource dataSource, Config config) {
        if (!present()) {
            throw new IllegalStateException("tollgate.config.source: jdbc needs io.tollgate:tollgate-jdbc-store on "
                    + "the class path");
        }
        ConfigWatcher watcher = JdbcConfigStore.builder(dataSource).migrate(config.isMigrate()).build()
                .watch(config.getPollInterval());
        return new TollgateConfigSource() {
            @Override
            public GovernanceConfig get() {
                return watcher.get();
            }

            @Override
            public String description() {
                return "MariaDB";
            }

            @Override
            public long version() {
                return watcher.version();
            }

            @Override
            public void close() {
                watcher.close();
            }
        };
    }

    /** Where a Redis that lost its data is restored from; migrates the schema first. */
    static SnapshotSource snapshotSource(DataSource dataSource) {
        TollgateSchema.migrate(dataSource);
        return JdbcSnapshotSource.create(dataSource);
    }

    static AutoCloseable startFlusher(GovernanceStore store, DataSource dataSource, Flush flush,
                                      TollgateListener listener) {
        return SnapshotFlusher.builder(store, dataSource).interval(flush.getInterval()).listener(listener).build()
                .start();
    }

    /** The flusher's health: seconds since its last successful flush, or -1 before the first. */
    static long flushLagSeconds(AutoCloseable flusher, Clock clock) {
        Instant last = ((SnapshotFlusher) flusher).stats().lastSuccessfulFlush();
        return last == null ? -1 : Duration.between(last, clock.instant()).toSeconds();
    }
}
