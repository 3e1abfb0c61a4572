package io.tollgate.jdbc.internal;

import org.jdbi.v3.sqlobject.config.RegisterConstructorMapper;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.locator.UseClasspathSqlLocator;
import org.jdbi.v3.sqlobject.statement.SqlBatch;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

import java.util.List;

/**
 * The usage snapshot table. Each method's SQL is in {@code io/tollgate/jdbc/internal/SnapshotDao/<method>.sql}.
 * Never touches a configuration table.
 *
 * <p>Attach it to a handle for one call or transaction; not to be shared between threads.
 */
@UseClasspathSqlLocator
@RegisterConstructorMapper(SnapshotRow.class)
public interface SnapshotDao {

    /** Writes each row whose version is higher than the stored one's, inserting missing rows: the latest wins. */
    @SqlBatch
    void upsertSnapshots(@BindMethods List<SnapshotRow> rows);

    /** Rows whose window contains {@code now} (epoch milliseconds). */
    @SqlQuery
    List<SnapshotRow> selectCurrent(long now);

    /** A holder's rows whose windows overlap {@code [from, to)}, by window start; {@code metric} null for all. */
    @SqlQuery
    List<SnapshotRow> selectHistory(String holderKind, String holderId, String metric, long from, long to);

    @SqlUpdate
    int deleteEndedBefore(long cutoff);
}
