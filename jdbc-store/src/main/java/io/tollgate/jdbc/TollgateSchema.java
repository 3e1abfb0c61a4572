package io.tollgate.jdbc;

import io.tollgate.StoreException;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;

import javax.sql.DataSource;
import java.util.Objects;

/**
 * Creates and upgrades Tollgate's tables with Flyway. The migrations live under {@value #LOCATION} and are recorded in
 * their own history table, {@value #HISTORY_TABLE}, so they never mix with the application's own Flyway migrations
 * in the same database. Every table Tollgate creates is named {@code tollgate_*}.
 *
 * <p>Idempotent, and safe to run from several replicas at once: Flyway serialises them with a database lock, and a
 * replica that finds the schema current does nothing. A replica older than the schema ignores the newer migrations.
 *
 * <p>Thread-safe (stateless).
 */
public final class TollgateSchema {

    /** Where the migrations are, on the class path. */
    public static final String LOCATION = "classpath:db/tollgate";
    /** Flyway's history table for Tollgate's migrations. */
    public static final String HISTORY_TABLE = "tollgate_schema_history";

    private TollgateSchema() {
    }

    /**
     * Brings the schema of {@code dataSource}'s database up to date.
     *
     * @return how many migrations ran (0 when the schema was current)
     * @throws StoreException if the database cannot be reached or a migration fails
     */
    public static int migrate(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        try {
            MigrateResult result = Flyway.configure(TollgateSchema.class.getClassLoader())
                    .dataSource(dataSource)
                    .locations(LOCATION)
                    .table(HISTORY_TABLE)
                    .failOnMissingLocations(true)
                    // the database usually holds the application's tables already: start our history at 0, not 1,
                    // so that V1 still runs
                    .baselineOnMigrate(true)
                    .baselineVersion("0")
                    .load()
                    .migrate();
            return result.migrationsExecuted;
        } catch (FlywayException e) {
            throw new StoreException("Tollgate schema migration failed: " + e.getMessage(), e);
        }
    }
}
