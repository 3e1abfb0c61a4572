package io.tollgate.redis.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;

/**
 * Fails calls that did not complete within one fixed timeout. Every call gets the same timeout, so deadlines come in
 * the order calls start: a queue in that order, and one daemon thread that waits for the head's deadline, costs a
 * call one lock-free enqueue (a scheduled task per call would cost a lock and a heap insertion, twice).
 *
 * <p>Thread-safe.
 */
public final class Deadlines implements AutoCloseable {

    private final long timeoutNanos;
    private final BiConsumer<CompletableFuture<?>, String> expire;
    private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    /**
     * @param timeoutNanos how long a call may take
     * @param expire       completes a call that took too long (exceptionally), given the call and the operation it
     *                     was watched for; runs on the deadline thread
     * @param name         the name of the deadline thread
     */
    public Deadlines(long timeoutNanos, BiConsumer<CompletableFuture<?>, String> expire, String name) {
        this.timeoutNanos = timeoutNanos;
        this.expire = expire;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Watches {@code call} of {@code operation} from now; returns it. */
    public <T extends CompletableFuture<?>> T watch(T call, String operation) {
        queue.add(new Entry(call, System.nanoTime() + timeoutNanos, operation));
        return call;
    }

    private void run() {
        while (!closed) {
            Entry head = queue.peek();
            if (head == null) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(5));
                continue;
            }
            if (head.call.isDone()) {
                queue.poll();
                continue;
            }
            long wait = head.deadline - System.nanoTime();
            if (wait > 0) {
                // a call completing meanwhile is dropped on the next turn; a short wait keeps that turn near
                LockSupport.parkNanos(this, Math.min(wait, TimeUnit.MILLISECONDS.toNanos(5)));
                continue;
            }
            queue.poll();
            try {
                expire.accept(head.call, head.operation);
            } catch (RuntimeException e) {
                // expiring one call must not stop the others from expiring
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }

    private record Entry(CompletableFuture<?> call, long deadline, String operation) {
    }
}
