package io.tollgate.jdbc.testing;

import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.WindowSpec;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterSnapshot;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/** Charging counters directly, and comparing a store's counters with the snapshot rows. */
public final class Counters {

    private Counters() {
    }

    /** A limit high enough never to get in the way, on rolling windows of {@code period} (or "none"). */
    public static Limit limit(Holder holder, Metric metric, String period) {
        WindowSpec window = period.equals("none") ? WindowSpec.unbounded() : WindowSpec.rolling(ResetPeriod.parse(period));
        return new Limit(holder, metric, Long.MAX_VALUE / 4, window);
    }

    /** Adds {@code amount} to each limit's current window, atomically. */
    public static void charge(InMemoryGovernanceStore store, long amount, Limit... limits) {
        List<CounterOp> ops = new ArrayList<>(limits.length);
        for (Limit limit : limits) {
            ops.add(CounterOp.add(limit, amount));
        }
        store.chargeNow(UUID.randomUUID().toString(), ops);
    }

    /** Every counter value the store holds, keyed like {@link #rows(DataSource)}. */
    public static Map<String, Long> values(InMemoryGovernanceStore store) {
        return keyed(store.snapshot());
    }

    public static Map<String, Long> keyed(Collection<CounterSnapshot> snapshots) {
        Map<String, Long> values = new TreeMap<>();
        for (CounterSnapshot snapshot : snapshots) {
            values.put(key(snapshot.counter().holder().kind().name(), snapshot.counter().holder().id(),
                    snapshot.counter().metric().name(), snapshot.counter().windowId(), snapshot.window().startMillis(),
                    snapshot.window().endMillis()), snapshot.value());
        }
        return values;
    }

    /** Every usage snapshot row, keyed by counter and window. */
    public static Map<String, Long> rows(DataSource dataSource) {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT holder_kind, holder_id, metric, window_id, window_start, "
                     + "window_end, amount FROM tollgate_usage_snapshot")) {
            while (rs.next()) {
                rows.put(key(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5),
                        rs.getLong(6)), rs.getLong(7));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading tollgate_usage_snapshot failed: " + e.getMessage(), e);
        }
        return rows;
    }

    /** The updated_at of one row, or null. */
    public static Long updatedAt(DataSource dataSource, String holderId, String metric) {
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT updated_at FROM tollgate_usage_snapshot WHERE holder_id = '"
                     + holderId + "' AND metric = '" + metric + "'")) {
            return rs.next() ? rs.getLong(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String key(String kind, String id, String metric, String windowId, long start, long end) {
        return kind + "|" + id + "|" + metric + "|" + windowId + "|" + start + "|" + end;
    }
}
