package io.tollgate.redis.internal;

import io.lettuce.core.RedisCommandExecutionException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends the charges of one hash tag that arrive together in one {@code charges.lua} call. A charge of a tag with no
 * call in flight goes at once; one that finds a call of its tag in flight opens a batch, or joins the open one, which
 * goes when that call comes back, when it holds {@code maxBatch} charges, or {@code window} after it opened,
 * whichever comes first. So a charge never waits while its tag is idle, and under load a tag's next batch fills while
 * Redis works on the one before. Each charge keeps its own idempotency key and gets its own reply, once Redis applied
 * it: nothing is acknowledged before. A batch of one goes as a plain {@code charge.lua} call. With a zero window every
 * charge goes at once.
 *
 * <p>Plain charges of the same windows go as one run: the counter keys once, the sum per counter (added up here), and
 * per charge only its idempotency key and value, so that a run costs Redis one write per counter and one per charge.
 * A run Redis cannot apply whole (a charge seen before, a sum that would overflow) is sent back: the charge seen
 * before is answered as a duplicate, the others go again, in a batch the first time and then alone, where each gets
 * its exact answer. Other charges go in the same call one by one.
 *
 * <p>Thread-safe. One daemon thread sends the batches whose window ends: it sleeps until the oldest open batch's
 * deadline, which is the earliest, so that opening a batch wakes it only when none was open. The call that comes back
 * last of its tag sends that tag's open batch, on the thread that completes it.
 */
public final class ChargeBatches implements AutoCloseable {

    private final RedisCalls calls;
    private final long windowNanos;
    private final int maxBatch;
    private final Object lock = new Object();
    /** The open batch of each tag, oldest (so first due) first; guarded by lock. */
    private final LinkedHashMap<Integer, Batch> open = new LinkedHashMap<>();
    /** How many calls of each tag are in flight, for the tags with any; guarded by lock. */
    private final HashMap<Integer, Integer> inFlight = new HashMap<>();
    /** Guarded by lock. */
    private boolean closed;
    /** Whether the flusher waits for a batch to open; guarded by lock. */
    private boolean flusherIdle;
    private final Thread flusher;

    public ChargeBatches(RedisCalls calls, long windowNanos, int maxBatch) {
        this.calls = calls;
        this.windowNanos = windowNanos;
        this.maxBatch = maxBatch;
        if (windowNanos == 0) {
            flusher = null;
        } else {
            flusher = new Thread(this::flushDueBatches, "tollgate-redis-charge-batches");
            flusher.setDaemon(true);
            flusher.start();
        }
    }

    /** Sends one charge, alone or with others of its tag; its own reply, or its own failure. */
    CompletableFuture<ChargeCall.Reply> send(ChargeCall call) {
        if (flusher == null) {
            return alone(call);
        }
        Charge charge = new Charge(call);
        enqueue(charge);
        return charge.reply;
    }

    private void enqueue(Charge charge) {
        int tag = charge.call.group().tag();
        Batch now = null;
        boolean closedNow;
        synchronized (lock) {
            closedNow = closed;
            if (!closedNow) {
                Batch batch = open.get(tag);
                if (batch == null && !inFlight.containsKey(tag)) {
                    now = new Batch(tag, 0);
                    batch = now;
                } else if (batch == null) {
                    batch = new Batch(tag, System.nanoTime() + windowNanos);
                    open.put(tag, batch);
                    if (flusherIdle) {
                        lock.notify();
                    }
                }
                batch.charges.add(charge);
                if (now == null && batch.charges.size() >= maxBatch) {
                    open.remove(tag);
                    now = batch;
                }
                if (now != null) {
                    countSent(tag);
                }
            }
        }
        if (now != null) {
            now.send();
        } else if (closedNow) {
            sendAlone(charge);
        }
    }

    /** A call of {@code tag} came back: the last one in flight sends the tag's open batch, if any. */
    private void cameBack(int tag) {
        Batch next = null;
        synchronized (lock) {
            int left = inFlight.merge(tag, -1, Integer::sum);
            if (left == 0) {
                inFlight.remove(tag);
                // nothing is open once closed
                next = open.remove(tag);
                if (next != null) {
                    countSent(tag);
                }
            }
        }
        if (next != null) {
            next.send();
        }
    }

    /** Counts one more call of {@code tag} in flight, until {@link #cameBack}; under the lock. */
    private void countSent(int tag) {
        inFlight.merge(tag, 1, Integer::sum);
    }

    /** Sends the charges a run sent back, together and at once, as the tag's call in flight beside any other. */
    private void sendAgain(int tag, List<Charge> charges) {
        boolean closedNow;
        synchronized (lock) {
            closedNow = closed;
            if (!closedNow) {
                countSent(tag);
            }
        }
        if (closedNow) {
            charges.forEach(this::sendAlone);
            return;
        }
        Batch again = new Batch(tag, 0);
        again.charges.addAll(charges);
        again.send();
    }

    private CompletableFuture<ChargeCall.Reply> alone(ChargeCall call) {
        return calls.script(LuaScript.CHARGE, call.keys(), call.args(), call::output, "charge");
    }

    private void sendAlone(Charge charge) {
        alone(charge.call).whenComplete((reply, failure) -> answerAlone(charge, reply, failure));
    }

    private static void answerAlone(Charge charge, ChargeCall.Reply reply, Throwable failure) {
        if (failure != null) {
            charge.reply.completeExceptionally(failure);
        } else {
            charge.reply.complete(reply);
        }
    }

    private void flushDueBatches() {
        while (true) {
            Batch due = null;
            long wait;
            synchronized (lock) {
                while (!closed && open.isEmpty()) {
                    flusherIdle = true;
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    } finally {
                        flusherIdle = false;
                    }
                }
                if (closed) {
                    return;
                }
                Map.Entry<Integer, Batch> oldest = open.entrySet().iterator().next();
                wait = oldest.getValue().deadline - System.nanoTime();
                if (wait <= 0) {
                    open.remove(oldest.getKey());
                    countSent(oldest.getKey());
                    due = oldest.getValue();
                }
            }
            if (due != null) {
                due.send();
            } else {
                // a batch opened meanwhile is due later; one sent meanwhile leaves the next oldest
                LockSupport.parkNanos(this, wait);
            }
        }
    }

    @Override
    public void close() {
        if (flusher == null) {
            return;
        }
        List<Batch> left;
        synchronized (lock) {
            closed = true;
            left = new ArrayList<>(open.values());
            left.forEach(batch -> countSent(batch.tag));
            open.clear();
            lock.notifyAll();
        }
        LockSupport.unpark(flusher);
        // what was waiting for its window goes now, rather than never
        left.forEach(Batch::send);
    }

    /** One charge waiting in a batch. */
    private static final class Charge {
        final ChargeCall call;
        final CompletableFuture<ChargeCall.Reply> reply = new CompletableFuture<>();
        /** Whether a run sent it back once already: the next time it goes alone, so that it surely gets an answer. */
        boolean sentBack;

        Charge(ChargeCall call) {
            this.call = call;
        }
    }

    /** Plain charges of one batch to the same windows with the same time argument, and what they add to each counter. */
    private static final class Run {
        final SlotGroup.Windows windows;
        final String timeArg;
        final List<Charge> charges = new ArrayList<>();
        final long[] sums;

        Run(ChargeCall first) {
            this.windows = first.windows();
            this.timeArg = first.timeArg();
            this.sums = new long[first.group().size()];
        }

        /** Whether {@code call} goes to the same counters in the same windows (plans of equal lists are equal). */
        boolean holds(ChargeCall call) {
            SlotGroup.Windows other = call.windows();
            return call.timeArg().equals(timeArg) && (other == windows || other.lo() == windows.lo()
                    && other.hi() == windows.hi() && Arrays.equals(other.keys(), windows.keys())
                    && Arrays.equals(other.expiries(), windows.expiries()));
        }

        /** Adds the charge, or refuses it (false) when a sum would pass a long: such a charge goes one by one. */
        boolean add(Charge charge) {
            for (int j = 0; j < sums.length; j++) {
                if (charge.call.amount(j) > Long.MAX_VALUE - sums[j]) {
                    return false;
                }
            }
            for (int j = 0; j < sums.length; j++) {
                sums[j] += charge.call.amount(j);
            }
            charges.add(charge);
            return true;
        }
    }

    /**
     * The charges of one tag that go together. Not thread-safe: filled under the lock, sent once; a batch sent while
     * the store is open counts as in flight for its tag until it comes back.
     */
    private final class Batch {
        final int tag;
        final long deadline;
        final List<Charge> charges = new ArrayList<>();

        Batch(int tag, long deadline) {
            this.tag = tag;
            this.deadline = deadline;
        }

        void send() {
            try {
                sendCall();
            } catch (RuntimeException e) {
                // nothing went: the tag is not left in flight, and every charge learns why, as from a call
                cameBack(tag);
                RuntimeException failure = calls.translate(e, "charge");
                charges.forEach(charge -> charge.reply.completeExceptionally(failure));
            }
        }

        private void sendCall() {
            if (charges.size() == 1) {
                Charge charge = charges.get(0);
                alone(charge.call).whenComplete((reply, failure) -> {
                    // the tag's next batch goes before this one's caller is woken
                    cameBack(tag);
                    answerAlone(charge, reply, failure);
                });
                return;
            }
            List<Run> runs = new ArrayList<>();
            List<Charge> oneByOne = new ArrayList<>();
            Set<String> inRuns = new HashSet<>();
            for (Charge charge : charges) {
                // a charge sent twice goes one by one the second time, after the first was applied
                if (!charge.call.plain() || !inRuns.add(charge.call.idempotencyKey())
                        || !runOf(runs, charge.call).add(charge)) {
                    oneByOne.add(charge);
                }
            }
            runs.removeIf(run -> run.charges.isEmpty());
            // the reply answers the runs' charges first, in order, then the others
            List<Charge> ordered = new ArrayList<>(charges.size());
            KeySpace.TagKeys tagKeys = charges.get(0).call.group().tagKeys();
            List<Bulk> keys = new ArrayList<>();
            List<Bulk> args = new ArrayList<>();
            keys.add(Bulk.of(tagKeys.epoch(), tagKeys.leases(), tagKeys.leaseDue()));
            args.add(Bulk.of(Integer.toString(runs.size()), Integer.toString(oneByOne.size()),
                    charges.get(0).call.lifetimeArg()));
            for (Run run : runs) {
                int c = run.charges.size();
                String[] idempotencyKeys = new String[c];
                String[] values = new String[c];
                for (int i = 0; i < c; i++) {
                    ChargeCall call = run.charges.get(i).call;
                    idempotencyKeys[i] = call.idempotencyKey();
                    values[i] = call.value();
                }
                keys.add(run.windows.sentKeys());
                keys.add(Bulk.of(idempotencyKeys));
                args.add(Bulk.of(run.timeArg, run.windows.loArg(), run.windows.hiArg(),
                        Integer.toString(run.sums.length), Integer.toString(c)));
                args.add(Bulk.ofDecimals(run.sums));
                args.add(Bulk.of(run.windows.expiries()));
                args.add(Bulk.of(values));
                ordered.addAll(run.charges);
            }
            for (Charge charge : oneByOne) {
                int keyCount = 0;
                for (Bulk part : charge.call.keys()) {
                    keys.add(part);
                    keyCount += part.count();
                }
                int argCount = 0;
                for (Bulk part : charge.call.args()) {
                    argCount += part.count();
                }
                args.add(Bulk.of(Integer.toString(keyCount), Integer.toString(argCount)));
                args.addAll(List.of(charge.call.args()));
                ordered.add(charge);
            }
            calls.script(LuaScript.CHARGES, keys.toArray(Bulk[]::new), args.toArray(Bulk[]::new),
                    () -> output(ordered), "charge").whenComplete((batch, failure) -> {
                        cameBack(tag);
                        List<Charge> again = new ArrayList<>();
                        for (int c = 0; c < ordered.size(); c++) {
                            answer(ordered.get(c), batch, c, failure, again);
                        }
                        if (!again.isEmpty()) {
                            sendAgain(tag, again);
                        }
                    });
        }

        private Run runOf(List<Run> runs, ChargeCall call) {
            for (Run run : runs) {
                if (run.holds(call)) {
                    return run;
                }
            }
            Run run = new Run(call);
            runs.add(run);
            return run;
        }

        /** Answers one charge of the reply, or sends it alone, or adds it to {@code again} (sent back the first time). */
        private void answer(Charge charge, ChargeBatchOutput batch, int c, Throwable failure, List<Charge> again) {
            if (failure != null) {
                charge.reply.completeExceptionally(failure);
            } else if (batch.sentBack(c)) {
                if (charge.sentBack) {
                    sendAlone(charge);
                } else {
                    charge.sentBack = true;
                    again.add(charge);
                }
            } else if (batch.failure(c) != null) {
                charge.reply.completeExceptionally(
                        calls.translate(new RedisCommandExecutionException(batch.failure(c)), "charge"));
            } else {
                charge.reply.complete(batch.part(c).get());
            }
        }

        private ChargeBatchOutput output(List<Charge> ordered) {
            List<ChargeCall.Output> parts = new ArrayList<>(ordered.size());
            for (Charge charge : ordered) {
                parts.add(charge.call.output());
            }
            return new ChargeBatchOutput(parts);
        }
    }
}
