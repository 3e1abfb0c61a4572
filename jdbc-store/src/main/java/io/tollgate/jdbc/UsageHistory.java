package io.tollgate.jdbc;

import io.tollgate.Holder;
import io.tollgate.Metric;
import io.tollgate.StoreException;
import io.tollgate.jdbc.internal.Jdbis;
import io.tollgate.jdbc.internal.SnapshotDao;
import io.tollgate.jdbc.internal.SnapshotRow;
import io.tollgate.jdbc.internal.SqlErrors;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;

import javax.sql.DataSource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A holder's usage over time, from the snapshots every replica's {@link SnapshotFlusher} writes: one record per
 * counter and window. Values are as of the last flush, so the current windows lag by up to one flush interval.
 *
 * <p>Snapshot rows are kept until {@link #deleteWindowsEndedBefore(Instant)} removes them.
 *
 * <p>Thread-safe.
 */
public final class UsageHistory {

    private final Jdbi jdbi;

    private UsageHistory(DataSource dataSource) {
        this.jdbi = Jdbis.over(dataSource);
    }

    /** A history over {@code dataSource}'s database, whose schema must be current (see {@link TollgateSchema}). */
    public static UsageHistory create(DataSource dataSource) {
        return new UsageHistory(dataSource);
    }

    /** Every metric of the holder; see {@link #query(Holder, Metric, Instant, Instant)}. */
    public List<UsageRecord> query(Holder holder, Instant from, Instant to) {
        return query(holder, null, from, to);
    }

    /**
     * The holder's usage in every window that overlaps {@code [from, to)}, ordered by window start (then metric and
     * window layout).
     *
     * @param metric one metric, or null for all
     * @throws IllegalArgumentException unless {@code from} is before {@code to}
     * @throws StoreException if the database cannot be read
     */
    public List<UsageRecord> query(Holder holder, Metric metric, Instant from, Instant to) {
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (!from.isBefore(to)) {
            throw new IllegalArgumentException("from: " + from + " must be before to: " + to);
        }
        List<SnapshotRow> rows;
        try {
            rows = jdbi.withExtension(SnapshotDao.class, dao -> dao.selectHistory(holder.kind().name(), holder.id(),
                    metric == null ? null : metric.name(), from.toEpochMilli(), to.toEpochMilli()));
        } catch (JdbiException e) {
            throw new StoreException("Usage history: query for " + holder + " failed: " + SqlErrors.describe(e), e);
        }
        List<UsageRecord> records = new ArrayList<>(rows.size());
        for (SnapshotRow row : rows) {
            records.add(new UsageRecord(Metric.valueOf(row.metric()), row.windowId(), row.window(), row.amount(),
                    Instant.ofEpochMilli(row.updatedAt())));
        }
        return records;
    }

    /**
     * Deletes the snapshots of every window that ended at or before {@code cutoff}; current windows are kept, so a
     * restore is unaffected.
     *
     * @return how many rows were deleted
     * @throws StoreException if the database cannot be written
     */
    public int deleteWindowsEndedBefore(Instant cutoff) {
        Objects.requireNonNull(cutoff, "cutoff");
        try {
            return jdbi.withExtension(SnapshotDao.class, dao -> dao.deleteEndedBefore(cutoff.toEpochMilli()));
        } catch (JdbiException e) {
            throw new StoreException("Usage history: delete before " + cutoff + " failed: " + SqlErrors.describe(e), e);
        }
    }
}
