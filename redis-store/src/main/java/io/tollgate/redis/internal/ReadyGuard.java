package io.tollgate.redis.internal;

import io.tollgate.StoreException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs the restore after data loss once at a time: every caller that finds the marker missing while a restore runs
 * waits on that same future. The restore itself blocks (it reads snapshots, perhaps from a database), so it runs on
 * one thread this guard owns, never on a Lettuce event-loop thread; the thread ends when idle.
 *
 * <p>Thread-safe.
 */
public final class ReadyGuard implements AutoCloseable {

    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Runnable restore;
    private final ThreadPoolExecutor executor;
    private final AtomicReference<CompletableFuture<Void>> inFlight = new AtomicReference<>();

    public ReadyGuard(Runnable restore) {
        this.restore = restore;
        this.executor = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), task -> {
            Thread thread = new Thread(task, "tollgate-redis-restore-" + THREADS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        executor.allowCoreThreadTimeOut(true);
    }

    /** Completes when a restore that started no earlier than this call has finished. */
    public CompletableFuture<Void> ensureReady() {
        while (true) {
            CompletableFuture<Void> running = inFlight.get();
            if (running != null) {
                return running;
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            if (!inFlight.compareAndSet(null, mine)) {
                continue;
            }
            try {
                executor.execute(() -> {
                    Throwable failure = null;
                    try {
                        restore.run();
                    } catch (Throwable t) {
                        failure = t;
                    }
                    // let the next loss start a new restore before waking the callers of this one
                    inFlight.compareAndSet(mine, null);
                    if (failure == null) {
                        mine.complete(null);
                    } else {
                        mine.completeExceptionally(failure);
                    }
                });
            } catch (RejectedExecutionException e) {
                inFlight.compareAndSet(mine, null);
                mine.completeExceptionally(new StoreException(RedisCalls.STORE + " is closed", e));
            }
            return mine;
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
