/**
 * Tollgate on MariaDB: the governance configuration in tables ({@link io.tollgate.jdbc.JdbcConfigStore}, watched by
 * every replica through a {@link io.tollgate.jdbc.ConfigWatcher}), periodic usage snapshots of any store
 * ({@link io.tollgate.jdbc.SnapshotFlusher}), the restore of counters after a store lost its data
 * ({@link io.tollgate.jdbc.JdbcSnapshotSource}), and usage history ({@link io.tollgate.jdbc.UsageHistory}).
 *
 * <p>Every entry point takes the application's own {@link javax.sql.DataSource}; nothing here opens a pool. The
 * tables are created by {@link io.tollgate.jdbc.TollgateSchema#migrate(javax.sql.DataSource)} (Flyway, with its own
 * history table), which {@link io.tollgate.jdbc.JdbcConfigStore#create(javax.sql.DataSource)} runs.
 */
package io.tollgate.jdbc;
