package io.tollgate.redis.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Leases as the scripts keep them, so that any replica can give back what a lease holds once it expires. Per slot
 * group that holds something:
 * <ul>
 *   <li>a <b>plan</b>: the counter keys held, one per line, in a key of the tag ({@code lease-plan:<id>}, the id a
 *       digest of the text), written by the reservations that use it now and then (it lives two lease durations
 *       after the last write or extension), so that a reservation sends it rarely;</li>
 *   <li>an <b>entry</b> of the tag's lease set: the lease's name, the plan's id and the holds in the plan's order, on
 *       three lines, a hundred bytes or so, whatever the number of counters.</li>
 * </ul>
 * The lease a reservation returns is, per group, its entry and its plan's text (the keys) joined by a unit separator,
 * and the groups joined by tabs (keys are escaped and hold neither): a settle reads the keys and holds back from it,
 * so that the charge sends them and no script parses anything.
 *
 * <p>Thread-safe.
 */
public final class LeaseEntries {

    private static final char GROUPS = '\t';
    private static final char PLAN = '\u001f';
    private static final char LINES = '\n';

    /** Makes this store's lease names unique across replicas, with {@link #ids}. */
    private final String head = Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".";
    private final AtomicLong ids = new AtomicLong();

    /** A new lease name, unique across every replica. */
    public String newName() {
        return head + Long.toString(ids.incrementAndGet(), 36);
    }

    /**
     * What a group's ops hold in {@code windows}, as a plan and the part of an entry after the lease's name; null when
     * the group holds nothing.
     */
    static Held held(SlotGroup group, SlotGroup.Windows windows, io.tollgate.spi.CounterOps ops) {
        StringBuilder plan = null;
        StringBuilder holds = null;
        for (int j = 0; j < group.size(); j++) {
            long hold = ops.hold(group.index(j));
            if (hold > 0) {
                if (plan == null) {
                    plan = new StringBuilder(64 * group.size());
                    holds = new StringBuilder(8 * group.size());
                } else {
                    plan.append(LINES);
                    holds.append(',');
                }
                plan.append(windows.keys()[j]);
                holds.append(hold);
            }
        }
        if (plan == null) {
            return null;
        }
        String text = plan.toString();
        String id = digest(text);
        String entry = LINES + id + LINES + holds;
        return new Held(group.tagKeys().leasePlan(id), text, entry, entry + PLAN + text);
    }

    /**
     * A group's plan: its key and text, and what follows the lease's name in the group's entry and in the lease a
     * reservation returns. Immutable and thread-safe.
     */
    record Held(String planKey, String planText, String entrySuffix, String leaseSuffix) {
    }

    /** The lease of a call from its groups' parts (nulls for groups that hold nothing); null when none holds. */
    public static String lease(String[] parts) {
        String lease = null;
        for (String part : parts) {
            if (part != null) {
                lease = lease == null ? part : lease + GROUPS + part;
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

    private static Entry entry(String part, KeySpace keys, String lease) {
        int split = part.indexOf(PLAN);
        if (split < 0) {
            throw notALease(lease);
        }
        String member = part.substring(0, split);
        String[] lines = member.split(String.valueOf(LINES), -1);
        String[] counterKeys = part.substring(split + 1).split(String.valueOf(LINES), -1);
        if (lines.length != 3) {
            throw notALease(lease);
        }
        String[] holdTexts = lines[2].split(",", -1);
        if (holdTexts.length != counterKeys.length) {
            throw notALease(lease);
        }
        long[] holds = new long[counterKeys.length];
        int tag = -1;
        for (int i = 0; i < counterKeys.length; i++) {
            int keyTag = keys.tagOfKey(counterKeys[i]);
            if (keyTag < 0 || (tag >= 0 && keyTag != tag)) {
                throw notALease(lease);
            }
            tag = keyTag;
            try {
                holds[i] = Long.parseLong(holdTexts[i]);
            } catch (NumberFormatException e) {
                throw notALease(lease);
            }
        }
        return new Entry(tag, member, keys.tagKeys(tag).leasePlan(lines[1]), counterKeys, holds);
    }

    private static IllegalArgumentException notALease(String lease) {
        String shown = lease.length() > 40 ? lease.substring(0, 40) + "..." : lease;
        return new IllegalArgumentException("lease \"" + shown.replace("\n", "\\n").replace("\t", "\\t")
                .replace("\u001f", "\\u001f") + "\" was not issued by this Redis store");
    }

    /** 128 bits of SHA-256, in hex: two plans with the same id would give back to each other's counters. */
    private static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /**
     * One slot group's part of a lease: its tag, the member of the tag's lease set, the key of its plan, and the
     * counter keys and holds it names. Immutable in practice and thread-safe.
     */
    public record Entry(int tag, String member, String planKey, String[] keys, long[] holds) {
    }
}
