package io.tollgate.jdbc;

import io.tollgate.StoreException;
import io.tollgate.jdbc.internal.Jdbis;
import io.tollgate.jdbc.internal.SnapshotDao;
import io.tollgate.jdbc.internal.SnapshotRow;
import io.tollgate.jdbc.internal.SqlErrors;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.SnapshotSource;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The last persisted counter values, as written by every replica's {@link SnapshotFlusher}: what a store restores
 * after it lost its data (a Redis restarted without persistence, say), before any decision trusts it again.
 *
 * <p>Pass it to a store that restores by itself, or call {@link #restore(GovernanceStore, SnapshotSource, Instant)}.
 * Restoring never lowers a counter: {@link GovernanceStore#restore} only raises counters to the persisted values.
 *
 * <p>Thread-safe.
 */
public final class JdbcSnapshotSource implements SnapshotSource {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcSnapshotSource.class);

    private final Jdbi jdbi;

    private JdbcSnapshotSource(DataSource dataSource) {
        this.jdbi = Jdbis.over(dataSource);
    }

    /** A source over {@code dataSource}'s database, whose schema must be current (see {@link TollgateSchema}). */
    public static JdbcSnapshotSource create(DataSource dataSource) {
        return new JdbcSnapshotSource(dataSource);
    }

    /**
     * Every persisted counter value whose window contains {@code now}.
     *
     * @throws StoreException if the database cannot be read
     */
    @Override
    public List<CounterSnapshot> currentSnapshots(Instant now) {
        Objects.requireNonNull(now, "now");
        List<SnapshotRow> rows;
        try {
            rows = jdbi.withExtension(SnapshotDao.class, dao -> dao.selectCurrent(now.toEpochMilli()));
        } catch (JdbiException e) {
            throw new StoreException("JDBC snapshot source: reading current snapshots failed: "
                    + SqlErrors.describe(e), e);
        }
        List<CounterSnapshot> snapshots = new ArrayList<>(rows.size());
        for (SnapshotRow row : rows) {
            try {
                snapshots.add(row.toSnapshot());
            } catch (IllegalArgumentException e) {
                // written by a newer version that knows more holder kinds or metrics: not ours to restore
                LOG.warn("Skipping usage snapshot {}/{}/{}/{}@{}: {}", row.holderKind(), row.holderId(), row.metric(),
                        row.windowId(), row.windowStart(), e.getMessage());
            }
        }
        return snapshots;
    }

    /**
     * Restores {@code store} from {@code source}: raises every counter of a window current at {@code now} to at
     * least its persisted value; a counter that is already higher stays as it is.
     *
     * @return how many snapshots were handed to the store
     */
    public static int restore(GovernanceStore store, SnapshotSource source, Instant now) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(source, "source");
        List<CounterSnapshot> snapshots = source.currentSnapshots(now);
        store.restore(snapshots);
        LOG.info("Restored {} counter values of current windows from the usage snapshots", snapshots.size());
        return snapshots.size();
    }
}
