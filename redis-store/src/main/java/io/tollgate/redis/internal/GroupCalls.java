package io.tollgate.redis.internal;

import io.tollgate.StoreException;
import io.tollgate.spi.CounterOps;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * One script call for one slot group, with what every call does around it: the windows of the guessed store time,
 * one more try with Redis time when the guess was wrong (within moments of a window boundary), the restore and one
 * more try when the tag lost its data, the data epoch of every reply observed, and the counters a call changed
 * marked for the flusher.
 *
 * <p>Thread-safe.
 */
public final class GroupCalls {

    /** Tries of one call whose guessed windows Redis time left; more than two means the clocks jump about. */
    private static final int TRIES = 3;

    private final RedisCalls calls;
    private final ChargeBatches batches;
    private final StoreClock clock;
    private final DataLossRestore restore;
    private final ChangeReader changes;
    private final long leaseMillisValue;
    private final String leaseMillis;
    private final String planMillis;
    private final String idempotencyMillis;
    private final LongAdder windowRetries = new LongAdder();

    public GroupCalls(RedisCalls calls, ChargeBatches batches, StoreClock clock, DataLossRestore restore,
                      ChangeReader changes, long leaseMillis, long idempotencyMillis) {
        this.calls = calls;
        this.batches = batches;
        this.clock = clock;
        this.restore = restore;
        this.changes = changes;
        this.leaseMillisValue = leaseMillis;
        this.leaseMillis = Long.toString(leaseMillis);
        // a plan outlives every lease taken under it unless that lease is extended, which renews the plan too
        this.planMillis = Long.toString(2 * leaseMillis);
        this.idempotencyMillis = Long.toString(idempotencyMillis);
    }

    /** A group's check-and-reserve; {@code leaseName} names the lease its holds are taken under. */
    public CompletableFuture<Taken> reserve(SlotGroup group, CounterOps ops, String leaseName) {
        return reserve(group, ops, leaseName, null, clock.guess(), 1, true);
    }

    /**
     * A group's check-and-reserve that also takes slices for leased admission: {@code wants} holds, by position in
     * the request, the slice wanted of each counter (see {@code reserve.lua}), {@code share} the largest share of a
     * counter's room one slice may take.
     */
    public CompletableFuture<Taken> reserve(SlotGroup group, CounterOps ops, String leaseName, long[] wants,
                                            String share) {
        Bulk wanted = null;
        if (wants != null && wantsAny(group, wants)) {
            String[] args = new String[group.size() + 1];
            args[0] = share;
            for (int j = 0; j < group.size(); j++) {
                args[j + 1] = Numbers.text(wants[group.index(j)]);
            }
            wanted = Bulk.of(args);
        }
        return reserve(group, ops, leaseName, wanted, clock.guess(), 1, true);
    }

    private static boolean wantsAny(SlotGroup group, long[] wants) {
        for (int j = 0; j < group.size(); j++) {
            if (wants[group.index(j)] > 0) {
                return true;
            }
        }
        return false;
    }

    private CompletableFuture<Taken> reserve(SlotGroup group, CounterOps ops, String leaseName, Bulk wanted,
                                             long guess, int tryNo, boolean restoreIfLost) {
        SlotGroup.Windows windows = group.windows(guess);
        ReserveCall.Prepared prepared = ReserveCall.prepare(group, windows, ops, leaseMillis, planMillis);
        LeaseEntries.Held held = prepared.held;
        String entry = held == null ? null : leaseName + held.entrySuffix();
        boolean writePlan = held != null && guess >= prepared.nextPlanWrite;
        if (writePlan) {
            prepared.nextPlanWrite = guess + leaseMillisValue / 2;
        }
        Bulk head = ReserveCall.head(prepared, clock.timeArg(guess), entry, writePlan);
        int n = group.size();
        Bulk[] args = wanted == null ? new Bulk[] {head, prepared.tail} : new Bulk[] {head, prepared.tail, wanted};
        return calls.script(LuaScript.RESERVE, prepared.keys, args, () -> new ReserveCall.Output(n), "reserve")
                .thenCompose(reply -> {
                    clock.learn(reply.now());
                    if (reply.status() == -2) {
                        windowRetries.increment();
                        return tryNo < TRIES
                                ? reserve(group, ops, leaseName, wanted, reply.now(), tryNo + 1, restoreIfLost)
                                : CompletableFuture.failedFuture(clockJumps("reserve", reply.now()));
                    }
                    if (reply.status() == -1) {
                        return restoreIfLost
                                ? restore.restore().thenCompose(done ->
                                        reserve(group, ops, leaseName, wanted, clock.guess(), 1, false))
                                : CompletableFuture.failedFuture(lostAgain("reserve"));
                    }
                    restore.observe(group.tag(), reply.epoch());
                    boolean admitted = reply.status() == 1;
                    if (admitted) {
                        changes.touch(group, windows);
                    }
                    if (!reply.givenBack().isEmpty()) {
                        changes.touch(reply.givenBack());
                    }
                    return CompletableFuture.completedFuture(new Taken(group, windows, admitted, reply.now(),
                            reply.used(), reply.epoch(), admitted ? entry : null,
                            admitted && held != null ? leaseName + held.leaseSuffix() : null, reply.slices()));
                });
    }

    /**
     * A group's charge, once per idempotency key.
     *
     * @param settle  this group's entry of the lease the charge settles, or null
     * @param value   the value stored under the idempotency key
     * @param details whether the reply says what was given back (to undo the charge)
     */
    public CompletableFuture<Charged> charge(SlotGroup group, CounterOps ops, LeaseEntries.Entry settle,
                                             String idempotencyKey, String value, boolean details) {
        return charge(group, ops, settle, idempotencyKey, value, details, clock.guess(), 1, true);
    }

    private CompletableFuture<Charged> charge(SlotGroup group, CounterOps ops, LeaseEntries.Entry settle,
                                              String idempotencyKey, String value, boolean details, long guess,
                                              int tryNo, boolean restoreIfLost) {
        SlotGroup.Windows windows = group.windows(guess);
        ChargeCall call = ChargeCall.build(group, windows, ops, settle, idempotencyKey, value, details,
                idempotencyMillis, clock.timeArg(guess));
        return batches.send(call).thenCompose(reply -> {
            clock.learn(reply.now());
            if (reply.status() == -2) {
                windowRetries.increment();
                return tryNo < TRIES
                        ? charge(group, ops, settle, idempotencyKey, value, details, reply.now(), tryNo + 1,
                                restoreIfLost)
                        : CompletableFuture.failedFuture(clockJumps("charge", reply.now()));
            }
            if (reply.status() == -1) {
                return restoreIfLost
                        ? restore.restore().thenCompose(done -> charge(group, ops, settle, idempotencyKey, value,
                                details, clock.guess(), 1, false))
                        : CompletableFuture.failedFuture(lostAgain("charge"));
            }
            restore.observe(group.tag(), reply.epoch());
            if (reply.status() == 1) {
                changes.touch(group, windows);
                if (settle != null && reply.settled()) {
                    changes.touch(List.of(settle.keys()));
                }
            }
            if (!reply.givenBack().isEmpty()) {
                changes.touch(reply.givenBack());
            }
            return CompletableFuture.completedFuture(new Charged(group, call, reply));
        });
    }

    /** A group's current values, in the group's order, with their windows; does not wait for a restore. */
    public CompletableFuture<Read> read(SlotGroup group) {
        return read(group, clock.guess(), 1);
    }

    private CompletableFuture<Read> read(SlotGroup group, long guess, int tryNo) {
        SlotGroup.Windows windows = group.windows(guess);
        int n = group.size();
        return calls.script(LuaScript.READ, windows.keys(), ReadCall.args(windows, clock.timeArg(guess)),
                () -> new ReadCall.Output(n), "read").thenCompose(reply -> {
                    clock.learn(reply.now());
                    if (reply.status() == -2) {
                        windowRetries.increment();
                        return tryNo < TRIES ? read(group, reply.now(), tryNo + 1)
                                : CompletableFuture.failedFuture(clockJumps("read", reply.now()));
                    }
                    return CompletableFuture.completedFuture(new Read(group, windows, reply.now(), reply.used()));
                });
    }

    /** Extends one group's entry of a lease, and its plan; false when it was settled or has expired. */
    public CompletableFuture<Boolean> extend(KeySpace.TagKeys tagKeys, LeaseEntries.Entry entry) {
        String[] args = {clock.timeArg(clock.guess()), entry.member(), leaseMillis, planMillis};
        return calls.script(LuaScript.EXTEND, new String[] {tagKeys.leases(), entry.planKey()}, args,
                FlagOutput::new, "extendLease");
    }

    /** Undoes what a call of a group took (see {@code release.lua}); false when there was nothing of it left. */
    public CompletableFuture<Boolean> release(String[] keys, String[] args, String operation) {
        return calls.script(LuaScript.RELEASE, keys, args, FlagOutput::new, operation);
    }

    /**
     * Takes {@code amount} off the counter at {@code key} (never below zero) if its tag still holds {@code epoch}: an
     * unused slice of leased admission going back. False when the data it was taken from is gone.
     */
    public CompletableFuture<Boolean> giveBack(KeySpace.TagKeys tagKeys, String epoch, String key, long amount) {
        String[] keys = {tagKeys.epoch(), tagKeys.leases(), tagKeys.leaseDue(), tagKeys.epoch(), key};
        String[] args = {epoch, "", "", "", "", "d", Numbers.text(amount)};
        return calls.script(LuaScript.RELEASE, keys, args, FlagOutput::new, "slice return").thenApply(done -> {
            if (done) {
                changes.touch(List.of(key));
            }
            return done;
        });
    }

    /** Calls sent again with Redis time after the guessed windows did not hold it. */
    public long windowRetries() {
        return windowRetries.sum();
    }

    private static StoreException clockJumps(String operation, long now) {
        return new StoreException(RedisCalls.STORE + ": " + operation + ": Redis time " + now + " left the windows "
                + "this replica computed " + TRIES + " times in a row; is a clock jumping?");
    }

    private static StoreException lostAgain(String operation) {
        return new StoreException(RedisCalls.STORE + ": " + operation
                + ": Redis lost its data again while it was being restored");
    }

    /**
     * What one group's reservation found and took: its windows, whether it admitted, the store time, each counter's
     * value before the call, the epoch it ran under, the lease entry it registered and the group's part of the lease
     * returned (both null for none), and the slice each counter gave beyond the need (by position in the group; null
     * for a denial answered from memory). Immutable in practice and thread-safe.
     */
    public record Taken(SlotGroup group, SlotGroup.Windows windows, boolean admitted, long now, long[] used,
                        String epoch, String leaseEntry, String leasePart, long[] slices) {

        /** The same with other values of the counters. */
        public Taken withUsed(long[] values) {
            return new Taken(group, windows, admitted, now, values, epoch, leaseEntry, leasePart, slices);
        }
    }

    /** One group's values and their windows. Immutable in practice and thread-safe. */
    public record Read(SlotGroup group, SlotGroup.Windows windows, long now, long[] used) {
    }

    /** One group's charge: the call as sent and its reply. Immutable in practice and thread-safe. */
    public record Charged(SlotGroup group, ChargeCall call, ChargeCall.Reply reply) {

        public boolean applied() {
            return reply.status() == 1;
        }
    }
}
