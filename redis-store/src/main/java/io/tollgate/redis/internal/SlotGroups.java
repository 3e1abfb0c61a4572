package io.tollgate.redis.internal;

import io.tollgate.Window;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.ReserveResult;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A request's calls over its slot groups: one script on standalone Redis, one per group on Redis Cluster, each atomic
 * on its own node, with what keeps the whole request right across groups.
 *
 * <ul>
 *   <li><b>reserve</b>: every group at once. Every group admits: admitted. None: denied, nothing taken. Some: what the
 *       admitting groups took is released, and the request is tried once more group by group in ascending tag order,
 *       which lets it through when the first denial came from another request's reservation being released. No
 *       counter ever passes its maximum, so request limits are never exceeded; a concurrent release can only cause a
 *       transient false denial.</li>
 *   <li><b>charge</b>: every group at once, each once per idempotency key, which holds a fingerprint of the whole
 *       charge. A retry of the same charge completes the groups that missed it and applies nothing twice; a charge
 *       under a key already used for another charge, or one that would overflow a counter in any group, is undone in
 *       the groups that applied it, so it applies nothing at all.</li>
 *   <li><b>read</b>: every group at once, each one consistent view.</li>
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class SlotGroups {

    private static final String SINGLE_GROUP_VALUE = "1";

    private final GroupCalls calls;
    private final KeySpace keys;
    private final LeaseEntries leases;
    private final DenialCache denials;
    private final SliceBook slices;
    private final StoreClock clock;
    /** Makes the idempotency values of this store's charges unique across replicas, with {@link #charges}. */
    private final String chargeHead = Long.toHexString(ThreadLocalRandom.current().nextLong()) + "-";
    private final AtomicLong charges = new AtomicLong();

    public SlotGroups(GroupCalls calls, KeySpace keys, LeaseEntries leases, DenialCache denials, SliceBook slices,
                      StoreClock clock) {
        this.calls = calls;
        this.keys = keys;
        this.leases = leases;
        this.denials = denials;
        this.slices = slices;
        this.clock = clock;
    }

    // ------------------------------------------------------------------------------------------------- reserve

    /**
     * From this replica's slices when every limit of the request is leased and has room (waiting once for a refill
     * on its way), else by Redis.
     */
    public CompletableFuture<ReserveResult> reserve(RequestPlan plan, CounterOps ops) {
        if (!slices.mayAdmit(plan, ops)) {
            return reserveInRedis(plan, ops);
        }
        SliceBook.Attempt attempt = slices.admit(plan, ops, true);
        if (attempt.admitted() != null) {
            return CompletableFuture.completedFuture(attempt.admitted());
        }
        if (attempt.inFlight() == null) {
            return decideInRedis(plan, ops);
        }
        return attempt.inFlight().thenCompose(refilled -> {
            SliceBook.Attempt again = slices.admit(plan, ops, false);
            return again.admitted() != null ? CompletableFuture.completedFuture(again.admitted())
                    : decideInRedis(plan, ops);
        });
    }

    /** A leasable request this replica had no room for: Redis decides, and its estimates' slices are refilled. */
    private CompletableFuture<ReserveResult> decideInRedis(RequestPlan plan, CounterOps ops) {
        CompletableFuture<ReserveResult> decided = reserveInRedis(plan, ops);
        if (ops.holdsAny()) {
            slices.refillHolds(plan, ops);
        }
        return decided;
    }

    /** Decided by Redis, never from slices; the call refills the slices of the request's leased counters. */
    public CompletableFuture<ReserveResult> reserveInRedis(RequestPlan plan, CounterOps ops) {
        ReserveResult remembered = rememberedDenial(plan, ops);
        if (remembered != null) {
            return CompletableFuture.completedFuture(remembered);
        }
        if (!slices.concerns(plan)) {
            return reserveGroups(plan, ops, null, false);
        }
        SliceBook.Refill refill = slices.refill(plan, ops);
        CompletableFuture<ReserveResult> decided = reserveGroups(plan, ops, refill, true);
        if (refill != null) {
            decided.whenComplete((result, failure) -> slices.ended(refill));
        }
        return decided;
    }

    /** The request's script calls; {@code leased} when a limit of it is, so that the replies teach the slices. */
    private CompletableFuture<ReserveResult> reserveGroups(RequestPlan plan, CounterOps ops, SliceBook.Refill refill,
                                                           boolean leased) {
        SlotGroup[] groups = plan.groups();
        long[] wants = refill == null ? null : refill.wants();
        String leaseName = ops.holdsAny() ? leases.newName() : "";
        if (groups.length == 1) {
            return calls.reserve(groups[0], ops, leaseName, wants, slices.share()).thenApply(reply -> {
                GroupCalls.Taken taken = learn(reply, ops, refill, leased, false);
                return result(plan, taken.admitted(), new GroupCalls.Taken[] {taken});
            });
        }
        List<CompletableFuture<GroupCalls.Taken>> all = new ArrayList<>(groups.length);
        for (SlotGroup group : groups) {
            all.add(calls.reserve(group, ops, leaseName, wants, slices.share()));
        }
        return settled(all).thenCompose(outcomes -> {
            GroupCalls.Taken[] taken = new GroupCalls.Taken[groups.length];
            Throwable failure = null;
            int admitted = 0;
            for (int g = 0; g < groups.length; g++) {
                Object outcome = outcomes.get(g);
                if (outcome instanceof GroupCalls.Taken t) {
                    // slices a group took stay this replica's, even where the request is released
                    taken[g] = learn(t, ops, refill, leased, true);
                    admitted += t.admitted() ? 1 : 0;
                } else if (failure == null) {
                    failure = (Throwable) outcome;
                }
            }
            if (failure != null) {
                Throwable cause = failure;
                return releaseAll(taken, ops).thenCompose(ignored -> CompletableFuture.failedFuture(cause));
            }
            if (admitted == groups.length) {
                return CompletableFuture.completedFuture(result(plan, true, taken));
            }
            if (admitted == 0) {
                return CompletableFuture.completedFuture(result(plan, false, taken));
            }
            return releaseAll(taken, ops).thenCompose(ignored -> reserveFrom(0, plan, ops, leaseName, leased,
                    Arrays.copyOf(taken, taken.length), new GroupCalls.Taken[groups.length]));
        });
    }

    /**
     * Group by group in ascending tag order (the same for every request): a request that holds the first groups is
     * only refused by a later group's counter, never by a request that has not passed the first. The states of
     * groups not reached again come from the first try.
     */
    private CompletableFuture<ReserveResult> reserveFrom(int g, RequestPlan plan, CounterOps ops, String leaseName,
                                                         boolean leased, GroupCalls.Taken[] taken,
                                                         GroupCalls.Taken[] held) {
        SlotGroup[] groups = plan.groups();
        if (g == groups.length) {
            return CompletableFuture.completedFuture(result(plan, true, taken));
        }
        return calls.reserve(groups[g], ops, leaseName).handle((t, failure) -> {
            if (failure != null) {
                return releaseAll(held, ops).<ReserveResult>thenCompose(ignored ->
                        CompletableFuture.failedFuture(failure));
            }
            taken[g] = learn(t, ops, null, leased, true);
            if (t.admitted()) {
                held[g] = taken[g];
                return reserveFrom(g + 1, plan, ops, leaseName, leased, taken, held);
            }
            return releaseAll(held, ops).thenApply(ignored -> result(plan, false, taken));
        }).thenCompose(Function.identity());
    }

    /**
     * What one group's reply teaches: the slices it took and the values of leased counters (see
     * {@link SliceBook#credit}), and the counters that left no room, remembered as denials; a counter this replica
     * holds slices of is not, as its own slices may be what filled it. With leases on a request of several slot
     * groups nothing is remembered: its groups' slices differ, so its own requests often take some groups and give
     * them back, and a denial seen meanwhile is false. Returns the group's state as the result shows it: an admission
     * as this replica sees the counters, a denial as Redis does, so that it names what refused.
     */
    private GroupCalls.Taken learn(GroupCalls.Taken taken, CounterOps ops, SliceBook.Refill refill, boolean leased,
                                   boolean severalGroups) {
        long[] own = leased ? slices.credit(ops, taken, refill) : taken.used();
        if (taken.admitted()) {
            return leased ? taken.withUsed(own) : taken;
        }
        if (!(leased && severalGroups)) {
            denials.remember(taken.group(), taken.windows(), ops, own, taken.now());
        }
        return taken;
    }

    /**
     * A denial this replica remembers for the request (see {@link DenialCache}), answered without a call; null when
     * it remembers none that applies.
     */
    private ReserveResult rememberedDenial(RequestPlan plan, CounterOps ops) {
        long guess = clock.guess();
        SlotGroup[] groups = plan.groups();
        boolean denied = false;
        for (int g = 0; g < groups.length && !denied; g++) {
            denied = denials.denies(groups[g], groups[g].windows(guess), ops, guess);
        }
        if (!denied) {
            return null;
        }
        denials.hit();
        GroupCalls.Taken[] taken = new GroupCalls.Taken[groups.length];
        for (int g = 0; g < groups.length; g++) {
            SlotGroup.Windows windows = groups[g].windows(guess);
            taken[g] = new GroupCalls.Taken(groups[g], windows, false, guess,
                    denials.remembered(groups[g], windows, guess), null, null, null, null);
        }
        return result(plan, false, taken);
    }

    /** Gives back what admitting groups took; waits for every release and never fails (a lost release errs high). */
    private CompletableFuture<Void> releaseAll(GroupCalls.Taken[] taken, CounterOps ops) {
        List<CompletableFuture<?>> releases = new ArrayList<>();
        for (GroupCalls.Taken t : taken) {
            if (t != null && t.admitted()) {
                releases.add(releaseReservation(t, ops));
            }
        }
        return settled(releases).thenApply(ignored -> null);
    }

    private CompletableFuture<Boolean> releaseReservation(GroupCalls.Taken t, CounterOps ops) {
        SlotGroup group = t.group();
        KeySpace.TagKeys tagKeys = group.tagKeys();
        List<String> keyArgs = new ArrayList<>(4 + group.size());
        List<String> args = new ArrayList<>(5 + 2 * group.size());
        keyArgs.addAll(List.of(tagKeys.epoch(), tagKeys.leases(), tagKeys.leaseDue(), tagKeys.epoch()));
        args.addAll(List.of(t.epoch(), "", t.leaseEntry() == null ? "" : t.leaseEntry(), "", ""));
        for (int j = 0; j < group.size(); j++) {
            int i = group.index(j);
            long need = ops.amount(i) + ops.hold(i);
            if (need > 0) {
                keyArgs.add(t.windows().keys()[j]);
                args.add("d");
                args.add(Numbers.text(need));
            }
        }
        return calls.release(keyArgs.toArray(new String[0]), args.toArray(new String[0]), "reserve");
    }

    private static ReserveResult result(RequestPlan plan, boolean admitted, GroupCalls.Taken[] taken) {
        CounterState[] states = new CounterState[plan.limits().size()];
        String[] entries = new String[taken.length];
        long now = Long.MIN_VALUE;
        for (int g = 0; g < taken.length; g++) {
            GroupCalls.Taken t = taken[g];
            now = Math.max(now, t.now());
            entries[g] = t.leasePart();
            SlotGroup group = t.group();
            for (int j = 0; j < group.size(); j++) {
                states[group.index(j)] = new CounterState(group.plan(j).limit(), t.used()[j],
                        t.windows().windows()[j]);
            }
        }
        return ReserveResult.exact(admitted, List.of(states), now, admitted ? LeaseEntries.lease(entries) : null);
    }

    // -------------------------------------------------------------------------------------------------- charge

    public CompletableFuture<ChargeResult> charge(RequestPlan plan, CounterOps ops, String idempotencyKey) {
        Map<Integer, LeaseEntries.Entry> settles = new HashMap<>();
        if (ops.settles() != null) {
            for (LeaseEntries.Entry entry : LeaseEntries.parse(ops.settles(), keys)) {
                settles.put(entry.tag(), entry);
            }
        }
        List<SlotGroup> groups = new ArrayList<>(Arrays.asList(plan.groups()));
        for (LeaseEntries.Entry entry : settles.values()) {
            if (groups.stream().noneMatch(group -> group.tag() == entry.tag())) {
                // a lease over limits the charge no longer names: settled in its tag all the same
                groups.add(new SlotGroup(entry.tag(), keys.tagKeys(entry.tag()), new int[0], new LimitPlan[0]));
            }
        }
        if (groups.size() == 1) {
            SlotGroup group = groups.get(0);
            return calls.charge(group, ops, settles.get(group.tag()), idempotencyKey, SINGLE_GROUP_VALUE, false)
                    .thenApply(charged -> {
                        forgetDenialsAfterGiveBack(charged);
                        if (charged.applied()) {
                            slices.charged(plan, ops);
                        }
                        return charged.applied() ? ChargeResult.APPLIED : ChargeResult.DUPLICATE;
                    });
        }
        String fingerprint = fingerprint(plan, ops);
        String value = fingerprint + ":" + chargeHead + Long.toHexString(charges.incrementAndGet());
        List<CompletableFuture<GroupCalls.Charged>> all = new ArrayList<>(groups.size());
        for (SlotGroup group : groups) {
            all.add(calls.charge(group, ops, settles.get(group.tag()), idempotencyKey, value, true));
        }
        return settled(all).thenCompose(outcomes -> {
            Throwable refusal = null;
            Throwable failure = null;
            boolean applied = false;
            boolean conflict = false;
            for (Object outcome : outcomes) {
                if (outcome instanceof Throwable t) {
                    if (refusal == null && RedisCalls.isOverflow(t)) {
                        refusal = t;
                    } else if (failure == null) {
                        failure = t;
                    }
                } else {
                    GroupCalls.Charged charged = (GroupCalls.Charged) outcome;
                    forgetDenialsAfterGiveBack(charged);
                    applied |= charged.applied();
                    conflict |= !charged.applied() && !sameCharge(charged.reply().duplicateOf(), fingerprint);
                }
            }
            if (refusal != null || conflict) {
                List<CompletableFuture<?>> undo = new ArrayList<>();
                for (Object outcome : outcomes) {
                    if (outcome instanceof GroupCalls.Charged charged && charged.applied()) {
                        undo.add(undoCharge(charged, value));
                    }
                }
                Throwable cause = refusal;
                return settled(undo).thenCompose(ignored -> cause != null ? CompletableFuture.failedFuture(cause)
                        : CompletableFuture.completedFuture(ChargeResult.DUPLICATE));
            }
            if (failure != null) {
                return CompletableFuture.failedFuture(failure);
            }
            if (applied) {
                slices.charged(plan, ops);
            }
            return CompletableFuture.completedFuture(applied ? ChargeResult.APPLIED : ChargeResult.DUPLICATE);
        });
    }

    private void forgetDenialsAfterGiveBack(GroupCalls.Charged charged) {
        if (charged.applied() && charged.reply().settled()) {
            denials.forget(charged.group());
        }
    }

    /** Takes back what a group's charge added, gives back what it released, and removes its idempotency key. */
    private CompletableFuture<Boolean> undoCharge(GroupCalls.Charged charged, String value) {
        SlotGroup group = charged.group();
        KeySpace.TagKeys tagKeys = group.tagKeys();
        ChargeCall call = charged.call();
        ChargeCall.Reply reply = charged.reply();
        List<String> keyArgs = new ArrayList<>();
        List<String> args = new ArrayList<>();
        keyArgs.addAll(List.of(tagKeys.epoch(), tagKeys.leases(), tagKeys.leaseDue(), call.idempotencyKey()));
        boolean putBack = reply.settled() && !reply.settledExpiry().isEmpty();
        args.addAll(List.of(reply.epoch(), value, "", putBack ? call.settledLease() : "",
                putBack ? reply.settledExpiry() : ""));
        List<String> counterKeys = call.counterKeys();
        for (int k = 0; k < counterKeys.size(); k++) {
            if (call.add(k) > 0) {
                keyArgs.add(counterKeys.get(k));
                args.add("d");
                args.add(Numbers.text(call.add(k)));
            }
            long returned = reply.returned() == null ? 0 : reply.returned()[k];
            if (returned > 0) {
                keyArgs.add(counterKeys.get(k));
                args.add("i");
                args.add(Numbers.text(returned));
            }
        }
        return calls.release(keyArgs.toArray(new String[0]), args.toArray(new String[0]), "charge");
    }

    /** Whether an idempotency key's value was written by a charge with this fingerprint. */
    private static boolean sameCharge(String value, String fingerprint) {
        return value != null && value.startsWith(fingerprint + ":");
    }

    /** A digest of what a charge applies: its counters, amounts and the lease it settles. */
    private static String fingerprint(RequestPlan plan, CounterOps ops) {
        long hash = 1125899906842597L;
        for (int i = 0; i < ops.size(); i++) {
            hash = 31 * hash + plan.limits().get(i).counterId().hashCode();
            hash = 31 * hash + ops.amount(i);
        }
        hash = 31 * hash + (ops.settles() == null ? 0 : ops.settles().hashCode());
        return Long.toHexString(hash);
    }

    // ---------------------------------------------------------------------------------------------------- read

    public CompletableFuture<List<CounterState>> read(RequestPlan plan) {
        SlotGroup[] groups = plan.groups();
        int n = plan.limits().size();
        if (n == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        CounterState[] states = new CounterState[n];
        CompletableFuture<?>[] all = new CompletableFuture<?>[groups.length];
        for (int g = 0; g < groups.length; g++) {
            all[g] = calls.read(groups[g]).thenAccept(read -> {
                SlotGroup group = read.group();
                for (int j = 0; j < group.size(); j++) {
                    Window window = read.windows().windows()[j];
                    // what this replica holds unused is not used yet
                    long used = Math.max(0, read.used()[j] - slices.held(group.plan(j), window.startMillis()));
                    states[group.index(j)] = new CounterState(group.plan(j).limit(), used, window);
                }
            });
        }
        return CompletableFuture.allOf(all).thenApply(ignored -> List.of(states));
    }

    // ------------------------------------------------------------------------------------------------- leases

    /** Extends every group's entry of {@code lease}; false when any was settled or has expired, or was never one. */
    public CompletableFuture<Boolean> extend(String lease) {
        List<LeaseEntries.Entry> entries;
        try {
            entries = LeaseEntries.parse(lease, keys);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(false);
        }
        List<CompletableFuture<Boolean>> all = new ArrayList<>(entries.size());
        for (LeaseEntries.Entry entry : entries) {
            all.add(calls.extend(keys.tagKeys(entry.tag()), entry));
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).thenApply(ignored ->
                all.stream().allMatch(CompletableFuture::join));
    }

    // ------------------------------------------------------------------------------------------------- helpers

    /** Completes when every stage has, with each one's value or failure (unwrapped), in order. Never fails. */
    private static <T> CompletableFuture<List<Object>> settled(List<? extends CompletableFuture<? extends T>> stages) {
        Object[] outcomes = new Object[stages.size()];
        CompletableFuture<?>[] done = new CompletableFuture<?>[stages.size()];
        for (int i = 0; i < done.length; i++) {
            int at = i;
            done[i] = stages.get(i).handle((value, failure) -> {
                outcomes[at] = failure == null ? value : unwrap(failure);
                return null;
            });
        }
        return CompletableFuture.allOf(done).thenApply(ignored -> Arrays.asList(outcomes));
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
