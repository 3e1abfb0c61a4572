package io.tollgate.redis.internal;

import io.tollgate.spi.CounterOps;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A charge of one slot group, as {@code charge.lua} takes it, and its reply. A charge's amounts differ from call to
 * call, so its arguments are built per call: the counters with something to add, and those a settled lease gives
 * back to (the same key when the window did not roll since the check). A plain charge (nothing to settle, no details
 * asked) may also go merged with others of its windows in one {@code charges.lua} call (see {@link ChargeBatches}),
 * so its arguments for a call of its own are built only when it goes alone.
 *
 * <p>Thread-safe: immutable but for the arguments of a plain charge, built at most once and published safely.
 */
final class ChargeCall {

    private static final int HEAD_ARGS = 7;

    private final SlotGroup group;
    private final SlotGroup.Windows windows;
    private final LeaseEntries.Entry settle;
    private final String idempotencyKey;
    private final String value;
    private final boolean details;
    private final String lifetimeArg;
    private final String timeArg;
    /** What the charge adds to each counter of the group's windows, in the group's order. */
    private final long[] amounts;
    private volatile Alone alone;

    private ChargeCall(SlotGroup group, SlotGroup.Windows windows, LeaseEntries.Entry settle, String idempotencyKey,
                       String value, boolean details, String lifetimeArg, String timeArg, long[] amounts) {
        this.group = group;
        this.windows = windows;
        this.settle = settle;
        this.idempotencyKey = idempotencyKey;
        this.value = value;
        this.details = details;
        this.lifetimeArg = lifetimeArg;
        this.timeArg = timeArg;
        this.amounts = amounts;
        if (!plain()) {
            alone = alone();
        }
    }

    /**
     * The call for {@code group} in {@code windows}.
     *
     * @param settle     this group's entry of the lease the charge settles, or null
     * @param value      the value stored under the idempotency key
     * @param details    whether the reply says what was given back per counter (to undo the charge)
     */
    static ChargeCall build(SlotGroup group, SlotGroup.Windows windows, CounterOps ops, LeaseEntries.Entry settle,
                            String idempotencyKey, String value, boolean details, String lifetimeArg,
                            String timeArg) {
        long[] amounts = new long[group.size()];
        for (int j = 0; j < amounts.length; j++) {
            amounts[j] = ops.amount(group.index(j));
        }
        return new ChargeCall(group, windows, settle, group.tagKeys().idempotency(idempotencyKey), value, details,
                lifetimeArg, timeArg, amounts);
    }

    /** Whether the charge may go merged with others: it settles nothing and asks for no details. */
    boolean plain() {
        return settle == null && !details;
    }

    SlotGroup group() {
        return group;
    }

    SlotGroup.Windows windows() {
        return windows;
    }

    String timeArg() {
        return timeArg;
    }

    String lifetimeArg() {
        return lifetimeArg;
    }

    /** What the charge adds to the group's {@code j}-th counter. */
    long amount(int j) {
        return amounts[j];
    }

    /** The value stored under the idempotency key. */
    String value() {
        return value;
    }

    Bulk[] keys() {
        return alone().keys;
    }

    Bulk[] args() {
        return alone().args;
    }

    /** The key under which the charge was recorded as seen. */
    String idempotencyKey() {
        return idempotencyKey;
    }

    /** The lease entry the charge settles, or '' for none. */
    String settledLease() {
        return settle == null ? "" : settle.member();
    }

    /** The counter keys the call changes, in the order of the reply's details. */
    List<String> counterKeys() {
        return alone().counterKeys;
    }

    long add(int k) {
        return alone().adds[k];
    }

    long release(int k) {
        return alone().releases[k];
    }

    Output output() {
        return new Output(details ? counterKeys().size() : 0);
    }

    private Alone alone() {
        Alone built = alone;
        if (built == null) {
            built = new Alone();
            alone = built;
        }
        return built;
    }

    /** The keys and arguments of {@code charge.lua} for this charge alone. Immutable and thread-safe. */
    private final class Alone {
        final Bulk[] keys;
        final Bulk[] args;
        final List<String> counterKeys;
        final long[] adds;
        final long[] releases;

        Alone() {
            int n = amounts.length;
            counterKeys = new ArrayList<>(n + (settle == null ? 0 : settle.keys().length));
            List<Long> added = new ArrayList<>(counterKeys.size());
            List<String> expiries = new ArrayList<>(n);
            for (int j = 0; j < n; j++) {
                if (amounts[j] > 0) {
                    counterKeys.add(windows.keys()[j]);
                    added.add(amounts[j]);
                    expiries.add(windows.expiries()[j]);
                }
            }
            long[] released = new long[counterKeys.size() + (settle == null ? 0 : settle.keys().length)];
            if (settle != null) {
                for (int k = 0; k < settle.keys().length; k++) {
                    String key = settle.keys()[k];
                    int at = counterKeys.indexOf(key);
                    if (at < 0) {
                        at = counterKeys.size();
                        counterKeys.add(key);
                        added.add(0L);
                        expiries.add("");
                    }
                    released[at] += settle.holds()[k];
                }
            }
            int m = counterKeys.size();
            KeySpace.TagKeys tagKeys = group.tagKeys();
            Bulk shared = Bulk.of(tagKeys.epoch(), tagKeys.leases(), tagKeys.leaseDue(), idempotencyKey);
            // a charge to every counter of the group sends the windows' keys, encoded once
            Bulk counters = sameKeys(counterKeys, windows.keys()) ? windows.sentKeys()
                    : Bulk.of(counterKeys.toArray(String[]::new));
            String[] texts = new String[HEAD_ARGS + 3 * m];
            texts[0] = timeArg;
            texts[1] = windows.loArg();
            texts[2] = windows.hiArg();
            texts[3] = lifetimeArg;
            texts[4] = value;
            texts[5] = settledLease();
            texts[6] = details ? "1" : "";
            adds = new long[m];
            int p = HEAD_ARGS;
            for (int k = 0; k < m; k++) {
                adds[k] = added.get(k);
                texts[p++] = Numbers.text(adds[k]);
                texts[p++] = Numbers.text(released[k]);
                texts[p++] = expiries.get(k);
            }
            releases = Arrays.copyOf(released, m);
            keys = new Bulk[] {shared, counters};
            args = new Bulk[] {Bulk.of(texts)};
        }
    }

    private static boolean sameKeys(List<String> keys, String[] windowKeys) {
        if (keys.size() != windowKeys.length) {
            return false;
        }
        for (int k = 0; k < windowKeys.length; k++) {
            if (!keys.get(k).equals(windowKeys[k])) {
                return false;
            }
        }
        return true;
    }

    /**
     * The reply: 1 applied, 0 a duplicate (its idempotency key's value in {@code duplicateOf}), -1 the data was lost,
     * -2 the store time lay outside the windows sent; the store time; the data epoch; whether the settled lease was
     * still held (and so given back); the settled lease's expiry and what was given back per counter, when asked; the
     * keys that expired leases gave back to during the call.
     */
    record Reply(int status, long now, String epoch, boolean settled, String settledExpiry, long[] returned,
                 String duplicateOf, List<String> givenBack) {
    }

    /**
     * Reads {@code {1, now, epoch, settled, expiry, returned_1 .. returned_m, given back ..}} (m zero unless details
     * were asked for) or {@code {0, now, epoch, value}}. Not thread-safe.
     */
    static final class Output extends ScriptOutput<Reply> {
        private final int m;
        private int status;
        private long now;
        private String epoch;
        private boolean settled;
        private String settledExpiry = "";
        private String duplicateOf;
        private long[] returned;
        private List<String> givenBack = List.of();

        Output(int m) {
            this.m = m;
            this.returned = m == 0 ? null : new long[m];
        }

        @Override
        void integer(int position, long value) {
            if (position == 0) {
                status = (int) value;
            } else if (position == 1) {
                now = value;
            } else if (position == 3) {
                settled = value == 1;
            }
        }

        @Override
        void text(int position, ByteBuffer bytes) {
            if (position == 2) {
                epoch = string(bytes);
            } else if (status == 0) {
                duplicateOf = string(bytes);
            } else if (position == 4) {
                settledExpiry = string(bytes);
            } else if (position < 5 + m) {
                returned[position - 5] = decimal(bytes);
            } else {
                if (givenBack.isEmpty()) {
                    givenBack = new ArrayList<>();
                }
                givenBack.add(string(bytes));
            }
        }

        @Override
        Reply result() {
            return new Reply(status, now, epoch, settled, settledExpiry, returned, duplicateOf, givenBack);
        }
    }
}
