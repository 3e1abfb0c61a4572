package io.tollgate.jdbc;

import io.tollgate.jdbc.testing.Rows;
import io.tollgate.jdbc.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TollgateSchemaTest {

    private static TestDatabase db;

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create(TollgateSchemaTest.class);
    }

    @AfterAll
    static void dropDatabase() {
        db.close();
    }

    @Test
    void migratesBesideTheApplicationsOwnTablesAndOnlyOnce() {
        Rows.execute(db.dataSource(), "CREATE TABLE app_orders (id BIGINT PRIMARY KEY, note VARCHAR(20))");
        Rows.execute(db.dataSource(), "INSERT INTO app_orders VALUES (1, 'kept')");

        assertThat(TollgateSchema.migrate(db.dataSource())).isEqualTo(4);
        assertThat(TollgateSchema.migrate(db.dataSource())).as("already current").isZero();

        assertThat(Rows.of(db.dataSource(), "app_orders")).containsExactly("id=1, note=kept");
        assertThat(Rows.of(db.dataSource(), TollgateSchema.HISTORY_TABLE)).hasSize(5); // baseline 0, V1, V2, V3 and V4
        assertThat(Rows.of(db.dataSource(), "tollgate_config_version")).containsExactly("id=1, version=0, updated_at=0");
        assertThat(Rows.of(db.dataSource(), "tollgate_usage_snapshot")).isEmpty();
    }
}
