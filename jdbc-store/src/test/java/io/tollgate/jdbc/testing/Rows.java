package io.tollgate.jdbc.testing;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Plain JDBC reads of whole tables, to compare the database before and after something. */
public final class Rows {

    public static final List<String> CONFIG_TABLES = List.of("tollgate_config_version", "tollgate_customer",
            "tollgate_team", "tollgate_virtual_key", "tollgate_provider_config", "tollgate_provider_model",
            "tollgate_user", "tollgate_model_config", "tollgate_budget", "tollgate_rate_limit");

    private Rows() {
    }

    /** Every row of the table, each as "column=value, ...", sorted. */
    public static List<String> of(DataSource dataSource, String table) {
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT * FROM " + table)) {
            ResultSetMetaData meta = rs.getMetaData();
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.append(i > 1 ? ", " : "").append(meta.getColumnName(i)).append('=').append(rs.getString(i));
                }
                rows.add(row.toString());
            }
            Collections.sort(rows);
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("reading " + table + " failed: " + e.getMessage(), e);
        }
    }

    /** Every configuration table, by name. */
    public static Map<String, List<String>> config(DataSource dataSource) {
        Map<String, List<String>> tables = new LinkedHashMap<>();
        for (String table : CONFIG_TABLES) {
            tables.put(table, of(dataSource, table));
        }
        return tables;
    }

    public static void execute(DataSource dataSource, String sql) {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + " failed: " + e.getMessage(), e);
        }
    }
}
