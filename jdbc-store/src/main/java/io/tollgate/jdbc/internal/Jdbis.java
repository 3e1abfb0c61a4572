package io.tollgate.jdbc.internal;

import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.sqlobject.SqlObjectPlugin;

import javax.sql.DataSource;
import java.util.Objects;

/** Builds the {@link Jdbi} every component of this module uses over the user's {@link DataSource}. Thread-safe. */
public final class Jdbis {

    private Jdbis() {
    }

    /** A Jdbi that borrows connections from {@code dataSource}; it opens no pool of its own. */
    public static Jdbi over(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        return Jdbi.create(dataSource).installPlugin(new SqlObjectPlugin());
    }
}
