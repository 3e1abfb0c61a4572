package io.tollgate.redis.internal;

import io.lettuce.core.RedisCommandExecutionException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Sends the charges of one hash tag that arrive together in one {@code charges.lua} call: a tag's first charge opens a
 * batch, which goes when it holds {@code maxBatch} charges or {@code window} after it opened, whichever comes first.
 * Each charge keeps its own idempotency key and gets its own reply, once Redis applied it: nothing is acknowledged
 * before. A batch of one goes as a plain {@code charge.lua} call. With a zero window every charge goes at once.
 *
 * <p>Thread-safe. One daemon thread sends the batches whose window ends.
 */
public final class ChargeBatches implements AutoCloseable {

    private final RedisCalls calls;
    private final long windowNanos;
    private final int maxBatch;
    private final Object lock = new Object();
    /** The open batch of each tag; guarded by lock. */
    private final Map<Integer, Batch> open = new HashMap<>();
    private final ScheduledExecutorService timer;

    public ChargeBatches(RedisCalls calls, long windowNanos, int maxBatch) {
        this.calls = calls;
        this.windowNanos = windowNanos;
        this.maxBatch = maxBatch;
        this.timer = windowNanos == 0 ? null : Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "tollgate-redis-charge-batches");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Sends one charge of {@code tag}, alone or with others of the same tag; its own reply, or its own failure. */
    public <T> CompletableFuture<T> send(int tag, Bulk[] keys, Bulk[] args, Supplier<? extends ScriptOutput<T>> output) {
        if (timer == null) {
            return calls.script(LuaScript.CHARGE, keys, args, output, "charge");
        }
        Charge<T> charge = new Charge<>(keys, args, output);
        Batch full = null;
        synchronized (lock) {
            Batch batch = open.get(tag);
            if (batch == null) {
                batch = new Batch();
                open.put(tag, batch);
                Batch opened = batch;
                timer.schedule(() -> windowEnded(tag, opened), windowNanos, TimeUnit.NANOSECONDS);
            }
            batch.charges.add(charge);
            if (batch.charges.size() >= maxBatch) {
                open.remove(tag);
                full = batch;
            }
        }
        if (full != null) {
            full.send();
        }
        return charge.reply;
    }

    private void windowEnded(int tag, Batch batch) {
        synchronized (lock) {
            if (!open.remove(tag, batch)) {
                return;
            }
        }
        batch.send();
    }

    @Override
    public void close() {
        if (timer == null) {
            return;
        }
        List<Batch> left;
        synchronized (lock) {
            left = new ArrayList<>(open.values());
            open.clear();
        }
        timer.shutdownNow();
        // what was waiting for its window goes now, rather than never
        left.forEach(Batch::send);
    }

    /** One charge waiting in a batch. */
    private static final class Charge<T> {
        final Bulk[] keys;
        final Bulk[] args;
        final Supplier<? extends ScriptOutput<T>> output;
        final CompletableFuture<T> reply = new CompletableFuture<>();

        Charge(Bulk[] keys, Bulk[] args, Supplier<? extends ScriptOutput<T>> output) {
            this.keys = keys;
            this.args = args;
            this.output = output;
        }

        @SuppressWarnings("unchecked")
        void answered(ChargeBatchOutput batch, int i, RedisCalls calls) {
            String failure = batch.failure(i);
            if (failure != null) {
                reply.completeExceptionally(calls.translate(new RedisCommandExecutionException(failure), "charge"));
            } else {
                reply.complete((T) batch.part(i).get());
            }
        }
    }

    /** The charges of one tag that go together. Not thread-safe: filled under the lock, sent once. */
    private final class Batch {
        final List<Charge<?>> charges = new ArrayList<>();

        void send() {
            if (charges.size() == 1) {
                sendAlone(charges.get(0));
                return;
            }
            List<Bulk> keys = new ArrayList<>();
            List<Bulk> args = new ArrayList<>();
            String[] head = new String[1 + 2 * charges.size()];
            head[0] = Integer.toString(charges.size());
            for (int c = 0; c < charges.size(); c++) {
                Charge<?> charge = charges.get(c);
                int keyCount = 0;
                for (Bulk part : charge.keys) {
                    keys.add(part);
                    keyCount += part.count();
                }
                int argCount = 0;
                for (Bulk part : charge.args) {
                    args.add(part);
                    argCount += part.count();
                }
                head[1 + 2 * c] = Integer.toString(keyCount);
                head[2 + 2 * c] = Integer.toString(argCount);
            }
            args.add(0, Bulk.of(head));
            calls.script(LuaScript.CHARGES, keys.toArray(Bulk[]::new), args.toArray(Bulk[]::new), this::output,
                    "charge").whenComplete((batch, failure) -> {
                        for (int c = 0; c < charges.size(); c++) {
                            if (failure != null) {
                                charges.get(c).reply.completeExceptionally(failure);
                            } else {
                                charges.get(c).answered(batch, c, calls);
                            }
                        }
                    });
        }

        private ChargeBatchOutput output() {
            List<ScriptOutput<?>> parts = new ArrayList<>(charges.size());
            for (Charge<?> charge : charges) {
                parts.add(charge.output.get());
            }
            return new ChargeBatchOutput(parts);
        }

        private <T> void sendAlone(Charge<T> charge) {
            calls.script(LuaScript.CHARGE, charge.keys, charge.args, charge.output, "charge")
                    .whenComplete((reply, failure) -> {
                        if (failure != null) {
                            charge.reply.completeExceptionally(failure);
                        } else {
                            charge.reply.complete(reply);
                        }
                    });
        }
    }
}
