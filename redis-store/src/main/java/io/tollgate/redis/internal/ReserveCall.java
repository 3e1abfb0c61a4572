package io.tollgate.redis.internal;

import io.tollgate.spi.CounterOps;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The arguments of {@code reserve.lua} for one slot group, and its reply. The keys and most arguments depend on the
 * group's windows and the ops only, so they are built once for both and kept on the group: a gateway whose callers
 * send the same request shape and estimates builds no argument, only the lease entry when something is held.
 */
final class ReserveCall {

    private static final int TIME = 0;
    private static final int LEASE = 3;
    private static final int PLAN = 5;
    private static final int PLAN_LIFETIME = 6;
    private static final int HEAD_ARGS = 7;

    private ReserveCall() {
    }

    /**
     * The arguments for {@code ops} in {@code windows}: from the group's cache when the last call had the same, else
     * built and cached.
     */
    static Prepared prepare(SlotGroup group, SlotGroup.Windows windows, CounterOps ops, String leaseMillis,
                            String planMillis) {
        Prepared last = group.reserveArgs;
        if (last != null && last.windows == windows && last.ops == ops) {
            return last;
        }
        int n = group.size();
        KeySpace.TagKeys tagKeys = group.tagKeys();
        LeaseEntries.Held held = LeaseEntries.held(group, windows, ops);
        String[] keys = new String[n + 4];
        keys[0] = tagKeys.epoch();
        keys[1] = tagKeys.leaseDue();
        System.arraycopy(windows.keys(), 0, keys, 2, n);
        keys[n + 2] = tagKeys.leases();
        keys[n + 3] = held == null ? tagKeys.epoch() : held.planKey();
        // counters of one window layout are next to each other (see PlanCache): one expiry per run of them
        List<String> runs = new ArrayList<>();
        String[] expiries = windows.expiries();
        for (int j = 0; j < n; ) {
            int k = j;
            while (k < n && expiries[k].equals(expiries[j])) {
                k++;
            }
            runs.add(Numbers.text(k - j));
            runs.add(expiries[j]);
            j = k;
        }
        String[] args = new String[HEAD_ARGS + 1 + runs.size() + 2 * n];
        args[TIME] = "";
        args[1] = windows.loArg();
        args[2] = windows.hiArg();
        args[LEASE] = "";
        args[4] = leaseMillis;
        args[PLAN] = "";
        args[PLAN_LIFETIME] = planMillis;
        args[HEAD_ARGS] = Numbers.text(runs.size() / 2);
        int p = HEAD_ARGS + 1;
        for (String run : runs) {
            args[p++] = run;
        }
        for (int j = 0; j < n; j++) {
            int i = group.index(j);
            long need = ops.amount(i) + ops.hold(i);
            args[p++] = Numbers.text(need);
            args[p++] = Numbers.text(threshold(need, group.plan(j).limit().max()));
        }
        Prepared prepared = new Prepared(windows, ops, keys, args, held);
        group.reserveArgs = prepared;
        return prepared;
    }

    /**
     * The highest value a counter may have for {@code need} more to fit under {@code max}; -1 when nothing fits. A zero
     * need fits below the maximum only (see {@link io.tollgate.spi.CounterOp#fits}).
     */
    static long threshold(long need, long max) {
        return need == 0 ? max - 1 : need > max ? -1 : max - need;
    }

    /**
     * The head of one call's arguments (the rest is {@link Prepared#tail}): the prepared one, with the time, the lease
     * entry of this call, and the plan's text when it is to be written again.
     */
    static Bulk head(Prepared prepared, String timeArg, String leaseEntry, boolean writePlan) {
        if (timeArg.isEmpty() && leaseEntry == null) {
            return prepared.head;
        }
        String[] head = Arrays.copyOf(prepared.args, HEAD_ARGS);
        head[TIME] = timeArg;
        if (leaseEntry != null) {
            head[LEASE] = leaseEntry;
            if (writePlan) {
                head[PLAN] = prepared.held.planText();
            }
        }
        return Bulk.of(head);
    }

    /**
     * A group's keys and arguments for given windows and ops, encoded (the arguments as a head that a call may change
     * and the tail after it), and what the group holds (null for nothing); when its lease plan is next to be written,
     * in store time. Immutable but for that time, and thread-safe.
     */
    static final class Prepared {
        final SlotGroup.Windows windows;
        final CounterOps ops;
        final Bulk[] keys;
        final String[] args;
        final Bulk head;
        final Bulk tail;
        final LeaseEntries.Held held;
        volatile long nextPlanWrite = Long.MIN_VALUE;

        Prepared(SlotGroup.Windows windows, CounterOps ops, String[] keys, String[] args, LeaseEntries.Held held) {
            this.windows = windows;
            this.ops = ops;
            int n = keys.length - 4;
            // the counter keys are the windows' own, encoded once for the reserve and the charge
            this.keys = new Bulk[] {Bulk.of(keys, 0, 2), windows.sentKeys(), Bulk.of(keys, n + 2, n + 4)};
            this.args = args;
            this.head = Bulk.of(args, 0, HEAD_ARGS);
            this.tail = Bulk.of(args, HEAD_ARGS, args.length);
            this.held = held;
        }
    }

    /**
     * The reply: 1 admitted, 0 denied, -1 the data was lost (nothing changed), -2 the store time lay outside the
     * windows sent (nothing changed); the store time; the data epoch; each counter's value before the call; the slice
     * each counter gave beyond the need (null unless slices were wanted and the request admitted); the keys that
     * expired leases gave back to during the call.
     */
    record Reply(int status, long now, String epoch, long[] used, long[] slices, List<String> givenBack) {
    }

    /**
     * Reads {@code {epoch, admitted, used_1 .. used_n, now, [slice_1 .. slice_n,] given back ..}} (a missing counter
     * as nil), or {@code {-1 or -2, now}} when nothing was done. Not thread-safe.
     */
    static final class Output extends ScriptOutput<Reply> {
        private final int n;
        private int status;
        private long now;
        private String epoch;
        private final long[] used;
        /** Only a call that wanted slices gets them: null until the first. */
        private long[] slices;
        private List<String> givenBack = List.of();

        Output(int n) {
            this.n = n;
            this.used = new long[n];
        }

        @Override
        void integer(int position, long value) {
            if (position == 0 || (position == 1 && epoch != null)) {
                status = (int) value;
            } else if (position > n + 2) {
                if (slices == null) {
                    slices = new long[n];
                }
                slices[position - n - 3] = value;
            } else {
                now = value;
            }
        }

        @Override
        void text(int position, ByteBuffer bytes) {
            if (position == 0) {
                epoch = string(bytes);
            } else if (position < 2 + n) {
                used[position - 2] = bytes == null ? 0 : decimal(bytes);
            } else {
                if (givenBack.isEmpty()) {
                    givenBack = new ArrayList<>();
                }
                givenBack.add(string(bytes));
            }
        }

        @Override
        Reply result() {
            return new Reply(status, now, epoch, used, slices, givenBack);
        }
    }
}
