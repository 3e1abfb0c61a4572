package io.tollgate.redis.internal;

import io.tollgate.spi.CounterOps;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The arguments of {@code charge.lua} for one slot group, and its reply. A charge's amounts differ from call to
 * call, so its arguments are built per call: the counters with something to add, and those a settled lease gives
 * back to (the same key when the window did not roll since the check).
 */
final class ChargeCall {

    private static final int HEAD_ARGS = 7;

    /** The keys, window starts included, the call changes, with what it adds and gives back to each. */
    private final Bulk[] keys;
    private final Bulk[] args;
    private final String idempotencyKey;
    private final String settledLease;
    private final List<String> counterKeys;
    private final long[] adds;
    private final long[] releases;
    private final boolean details;

    private ChargeCall(Bulk[] keys, Bulk[] args, String idempotencyKey, String settledLease, List<String> counterKeys,
                       long[] adds, long[] releases, boolean details) {
        this.keys = keys;
        this.args = args;
        this.idempotencyKey = idempotencyKey;
        this.settledLease = settledLease;
        this.counterKeys = counterKeys;
        this.adds = adds;
        this.releases = releases;
        this.details = details;
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
        int n = group.size();
        List<String> counterKeys = new ArrayList<>(n + (settle == null ? 0 : settle.keys().length));
        List<Long> adds = new ArrayList<>(counterKeys.size());
        List<String> expiries = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
            long add = ops.amount(group.index(j));
            if (add > 0) {
                counterKeys.add(windows.keys()[j]);
                adds.add(add);
                expiries.add(windows.expiries()[j]);
            }
        }
        long[] releases = new long[counterKeys.size() + (settle == null ? 0 : settle.keys().length)];
        if (settle != null) {
            for (int k = 0; k < settle.keys().length; k++) {
                String key = settle.keys()[k];
                int at = counterKeys.indexOf(key);
                if (at < 0) {
                    at = counterKeys.size();
                    counterKeys.add(key);
                    adds.add(0L);
                    expiries.add("");
                }
                releases[at] += settle.holds()[k];
            }
        }
        int m = counterKeys.size();
        KeySpace.TagKeys tagKeys = group.tagKeys();
        String idempotency = tagKeys.idempotency(idempotencyKey);
        Bulk shared = Bulk.of(tagKeys.epoch(), tagKeys.leases(), tagKeys.leaseDue(), idempotency);
        // a charge to every counter of the group sends the windows' keys, encoded once
        Bulk counters = sameKeys(counterKeys, windows.keys()) ? windows.sentKeys()
                : Bulk.of(counterKeys.toArray(String[]::new));
        String[] args = new String[HEAD_ARGS + 3 * m];
        args[0] = timeArg;
        args[1] = windows.loArg();
        args[2] = windows.hiArg();
        args[3] = lifetimeArg;
        args[4] = value;
        args[5] = settle == null ? "" : settle.member();
        args[6] = details ? "1" : "";
        long[] added = new long[m];
        int p = HEAD_ARGS;
        for (int k = 0; k < m; k++) {
            added[k] = adds.get(k);
            args[p++] = Numbers.text(added[k]);
            args[p++] = Numbers.text(releases[k]);
            args[p++] = expiries.get(k);
        }
        return new ChargeCall(new Bulk[] {shared, counters}, new Bulk[] {Bulk.of(args)}, idempotency, args[5],
                counterKeys, added, Arrays.copyOf(releases, m), details);
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

    Bulk[] keys() {
        return keys;
    }

    Bulk[] args() {
        return args;
    }

    /** The key under which the charge was recorded as seen. */
    String idempotencyKey() {
        return idempotencyKey;
    }

    /** The lease entry the charge settles, or '' for none. */
    String settledLease() {
        return settledLease;
    }

    /** The counter keys the call changes, in the order of the reply's details. */
    List<String> counterKeys() {
        return counterKeys;
    }

    long add(int k) {
        return adds[k];
    }

    long release(int k) {
        return releases[k];
    }

    Output output() {
        return new Output(details ? counterKeys.size() : 0);
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
