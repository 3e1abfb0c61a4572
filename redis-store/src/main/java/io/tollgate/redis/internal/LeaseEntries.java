package io.tollgate.redis.internal;

import io.tollgate.spi.CounterOps;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Leases as the scripts keep them: one entry per slot group that holds something, a member of the group's lease set,
 * which is the lease's name followed by each counter key and hold on lines of their own, so that any replica can give
 * the holds back when the lease expires, from the entry alone. The lease a reservation returns is its entries joined
 * by tabs (keys are escaped and never hold one); a settle reads the keys and holds back from it, so that the charge
 * sends them without the script parsing anything.
 *
 * <p>Thread-safe.
 */
public final class LeaseEntries {

    private static final char GROUPS = '\t';
    private static final char LINES = '\n';

    /** Makes this store's lease names unique across replicas, with {@link #ids}. */
    private final String head = Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".";
    private final AtomicLong ids = new AtomicLong();

    /** A new lease name, unique across every replica. */
    public String newName() {
        return head + Long.toString(ids.incrementAndGet(), 36);
    }

    /** What a group's ops hold, as the part of an entry after the name; null when the group holds nothing. */
    static String payload(SlotGroup group, SlotGroup.Windows windows, CounterOps ops) {
        StringBuilder payload = null;
        for (int j = 0; j < group.size(); j++) {
            long hold = ops.hold(group.index(j));
            if (hold > 0) {
                if (payload == null) {
                    payload = new StringBuilder(64 * group.size());
                }
                payload.append(LINES).append(windows.keys()[j]).append(LINES).append(hold);
            }
        }
        return payload == null ? null : payload.toString();
    }

    /** The lease of a call from its groups' entries (nulls for groups that hold nothing); null when none holds. */
    public static String lease(String[] entries) {
        String lease = null;
        for (String entry : entries) {
            if (entry != null) {
                lease = lease == null ? entry : lease + GROUPS + entry;
            }
        }
        return lease;
    }

    /**
     * The entries of a lease this store issued.
     *
     * @throws IllegalArgumentException for text that is not such a lease
     */
    public static List<Entry> parse(String lease, KeySpace keys) {
        List<Entry> entries = new ArrayList<>(1);
        int from = 0;
        while (from <= lease.length()) {
            int end = lease.indexOf(GROUPS, from);
            if (end < 0) {
                end = lease.length();
            }
            entries.add(entry(lease.substring(from, end), keys, lease));
            from = end + 1;
        }
        return entries;
    }

    private static Entry entry(String member, KeySpace keys, String lease) {
        String[] lines = member.split(String.valueOf(LINES), -1);
        if (lines.length < 3 || lines.length % 2 == 0) {
            throw notALease(lease);
        }
        int n = (lines.length - 1) / 2;
        String[] counterKeys = new String[n];
        long[] holds = new long[n];
        int tag = -1;
        for (int i = 0; i < n; i++) {
            counterKeys[i] = lines[1 + 2 * i];
            int keyTag = keys.tagOfKey(counterKeys[i]);
            if (keyTag < 0 || (tag >= 0 && keyTag != tag)) {
                throw notALease(lease);
            }
            tag = keyTag;
            try {
                holds[i] = Long.parseLong(lines[2 + 2 * i]);
            } catch (NumberFormatException e) {
                throw notALease(lease);
            }
        }
        return new Entry(tag, member, counterKeys, holds);
    }

    private static IllegalArgumentException notALease(String lease) {
        String shown = lease.length() > 40 ? lease.substring(0, 40) + "..." : lease;
        return new IllegalArgumentException("lease \"" + shown.replace("\n", "\\n").replace("\t", "\\t")
                + "\" was not issued by this Redis store");
    }

    /**
     * One slot group's part of a lease: its tag, the member of the tag's lease set, and the counter keys and holds it
     * names. Immutable in practice and thread-safe.
     */
    public record Entry(int tag, String member, String[] keys, long[] holds) {
    }
}
