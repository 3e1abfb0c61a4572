package io.tollgate.jdbc.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.tollgate.jdbc.TollgateSchema;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.function.Consumer;

/**
 * A {@link TestDatabase} with the Tollgate schema for one test class, as a JUnit extension on a static field:
 * <pre>{@code
 * @RegisterExtension
 * static final MigratedDatabase DB = MigratedDatabase.withEmptySnapshots();
 * }</pre>
 * The database is created and migrated before the class's {@code @BeforeAll} methods and dropped after its
 * {@code @AfterAll} methods.
 *
 * <p>Thread-safe: the database is set once before the tests run.
 */
public final class MigratedDatabase implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {

    private final boolean emptySnapshotsBeforeEach;
    private volatile TestDatabase database;

    private MigratedDatabase(boolean emptySnapshotsBeforeEach) {
        this.emptySnapshotsBeforeEach = emptySnapshotsBeforeEach;
    }

    /** A database shared by the class's tests as they leave it. */
    public static MigratedDatabase shared() {
        return new MigratedDatabase(false);
    }

    /** A database whose {@code tollgate_usage_snapshot} table is emptied before each test. */
    public static MigratedDatabase withEmptySnapshots() {
        return new MigratedDatabase(true);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        database = TestDatabase.create(context.getRequiredTestClass());
        TollgateSchema.migrate(database.dataSource());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (emptySnapshotsBeforeEach) {
            Rows.execute(database.dataSource(), "DELETE FROM tollgate_usage_snapshot");
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (database != null) {
            database.close();
        }
    }

    /** The database itself. */
    public TestDatabase database() {
        return database;
    }

    /** See {@link TestDatabase#dataSource()}. */
    public HikariDataSource dataSource() {
        return database.dataSource();
    }

    /** See {@link TestDatabase#host()}. */
    public String host() {
        return database.host();
    }

    /** See {@link TestDatabase#port()}. */
    public int port() {
        return database.port();
    }

    /** See {@link TestDatabase#newDataSource(Consumer)}. */
    public HikariDataSource newDataSource(Consumer<HikariConfig> customizer) {
        return database.newDataSource(customizer);
    }

    /** See {@link TestDatabase#newDataSource(String, int, Consumer)}. */
    public HikariDataSource newDataSource(String host, int port, Consumer<HikariConfig> customizer) {
        return database.newDataSource(host, port, customizer);
    }
}
