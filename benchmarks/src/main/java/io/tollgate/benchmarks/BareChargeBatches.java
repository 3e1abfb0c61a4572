package io.tollgate.benchmarks;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The least a client can do to coalesce blocking charges, the floor of {@link CoalescedChargeBenchmark}, which sends
 * them as the store does: callers queue under one lock; a charge with no call in flight goes at once, the others wait
 * in a batch that goes when the calls in flight came back, when it is full or at the window's end, as one
 * {@code EVALSHA}; each caller waits for its own element of the reply. The script does the least a batch of 7-level
 * charges must: set each charge's idempotency key ({@code SET NX PX}) and add the batch's sum (one per charge) to each
 * of 21 counters once. With {@code bare = false} it does nothing at all but answer each caller, which leaves the cost
 * of the hand-off alone. No windows, epoch, leases or overflow checks: a floor, not a design.
 *
 * <p>Thread-safe.
 */
final class BareChargeBatches implements AutoCloseable {

    private static final String BARE_CHARGES = """
            local n = tonumber(ARGV[1])
            local counters = #KEYS - n
            local reply = {}
            for i = 1, n do
              reply[i] = redis.call('SET', KEYS[counters + i], '1', 'NX', 'PX', 10000) and 1 or 0
            end
            for k = 1, counters do
              redis.call('INCRBY', KEYS[k], ARGV[2])
            end
            return reply""";
    private static final String ANSWERS_ONLY = """
            local reply = {}
            for i = 1, tonumber(ARGV[1]) do
              reply[i] = 1
            end
            return reply""";

    private final RedisAsyncCommands<String, String> commands;
    private final String sha;
    private final boolean bare;
    private final long windowNanos;
    private final int maxBatch;
    private final String[] counterKeys;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private List<Pending> open;
    /** Calls sent and not yet back; guarded by lock. */
    private int inFlight;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "bare-charge-batches");
        thread.setDaemon(true);
        return thread;
    });

    BareChargeBatches(StatefulRedisConnection<String, String> connection, boolean bare, long windowNanos,
                      int maxBatch) {
        this.commands = connection.async();
        this.sha = connection.sync().scriptLoad(bare ? BARE_CHARGES : ANSWERS_ONLY);
        this.bare = bare;
        this.windowNanos = windowNanos;
        this.maxBatch = maxBatch;
        this.counterKeys = new String[RedisBackend.HIERARCHY_COUNTERS];
        for (int i = 0; i < counterKeys.length; i++) {
            counterKeys[i] = RedisBackend.FLOOR_KEY + ":{h}:" + i;
        }
    }

    /** One charge under {@code requestId}, once its batch was applied: 1, or 0 for a request id seen before. */
    long charge(String requestId) {
        Pending pending = new Pending(RedisBackend.FLOOR_KEY + ":{h}:seen:" + requestId);
        List<Pending> now = null;
        synchronized (lock) {
            if (open == null && inFlight == 0) {
                now = List.of(pending);
            } else {
                if (open == null) {
                    open = new ArrayList<>(maxBatch);
                    List<Pending> opened = open;
                    timer.schedule(() -> windowEnded(opened), windowNanos, TimeUnit.NANOSECONDS);
                }
                open.add(pending);
                if (open.size() >= maxBatch) {
                    now = open;
                    open = null;
                }
            }
            if (now != null) {
                inFlight++;
            }
        }
        if (now != null) {
            send(now);
        }
        return pending.reply.join();
    }

    private void windowEnded(List<Pending> batch) {
        synchronized (lock) {
            if (open != batch) {
                return;
            }
            open = null;
            inFlight++;
        }
        send(batch);
    }

    private void cameBack() {
        List<Pending> next = null;
        synchronized (lock) {
            if (--inFlight == 0 && open != null) {
                next = open;
                open = null;
                inFlight++;
            }
        }
        if (next != null) {
            send(next);
        }
    }

    private void send(List<Pending> batch) {
        int n = batch.size();
        String[] keys = new String[bare ? counterKeys.length + n : 0];
        if (bare) {
            System.arraycopy(counterKeys, 0, keys, 0, counterKeys.length);
            for (int i = 0; i < n; i++) {
                keys[counterKeys.length + i] = batch.get(i).idempotencyKey;
            }
        }
        commands.<List<Long>>evalsha(sha, ScriptOutputType.MULTI, keys, Integer.toString(n), Integer.toString(n))
                .whenComplete((reply, failure) -> {
                    cameBack();
                    for (int i = 0; i < n; i++) {
                        if (failure != null) {
                            batch.get(i).reply.completeExceptionally(failure);
                        } else {
                            batch.get(i).reply.complete(reply.get(i));
                        }
                    }
                });
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    private static final class Pending {
        final String idempotencyKey;
        final CompletableFuture<Long> reply = new CompletableFuture<>();

        Pending(String idempotencyKey) {
            this.idempotencyKey = idempotencyKey;
        }
    }
}
