package io.tollgate.fleet;

import io.lettuce.core.RedisClient;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.LimitUsage;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreStats;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One gateway replica of a multi-process fleet run ({@link ProcessFleet} starts it): its own {@link RedisClient},
 * store and {@link BudgetResolver}, and worker threads that send the {@link HotKey} check at a steady pace, after a
 * warm-up at the same pace on a tenant of its own. Every
 * decision is counted into the replica's {@link WindowCounts} file by the hot limit's window as the store answered it,
 * and the store's leasing stats are published there every {@value #PUBLISH_MILLIS} ms, so that the coordinator knows
 * what a replica it killed had admitted and held.
 *
 * <p>The coordinator speaks on standard input: a line {@code go} starts the workers, a line {@code stop} (or the end
 * of input, when the coordinator is gone) stops them; the replica then closes its store, which gives its unused slices
 * back, publishes its final stats and exits with 0 (1 when it could not start). It stops by itself
 * {@value #GRACE_SECONDS} s after its duration should it hear nothing.
 *
 * <p>Not thread-safe; a command-line entry point.
 */
@Command(name = "tollgate-fleet-replica", description = "One replica process of a tollgate-fleet --processes run.")
public final class ReplicaProcess implements Callable<Integer> {

    static final long PUBLISH_MILLIS = 2;
    static final long GRACE_SECONDS = 60;

    @Option(names = "--redis", required = true)
    String redis;

    @Option(names = "--key-prefix", required = true)
    String keyPrefix;

    @Option(names = "--counts", required = true)
    Path countsFile;

    @Option(names = "--index", required = true)
    int index;

    @Option(names = "--threads", required = true)
    int threads;

    @Option(names = "--rate", required = true, description = "Checks per second per worker thread.")
    double rate;

    @Option(names = "--max", required = true)
    long max;

    @Option(names = "--window-ms", required = true)
    long windowMillis;

    @Option(names = "--duration-ms", required = true)
    long durationMillis;

    @Option(names = "--warm-up-ms", required = true)
    long warmUpMillis;

    @Option(names = "--leases")
    boolean leases;

    private final AtomicBoolean stop = new AtomicBoolean();

    public static void main(String[] args) {
        System.exit(new CommandLine(new ReplicaProcess()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        WindowCounts counts = WindowCounts.open(countsFile);
        HotKey hotKey = new HotKey(max, Duration.ofMillis(windowMillis));
        Duration duration = Duration.ofMillis(durationMillis);
        RedisClient client = RedisClient.create(redis);
        try {
            // a store starts while Redis is down and connects later; a replica of a run must not
            client.connect().close();
            RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                    .options(RedisStores.options(keyPrefix, duration, leases)).build();
            BudgetResolver resolver = BudgetResolver.create(store, hotKey.config());
            warmUp(resolver, counts);
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> workers = startWorkers("t", random -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                pace(resolver, HotKey.request(), true, counts, random, () -> !stop.get());
            });
            ScheduledExecutorService publisher = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "replica-" + index + "-publisher");
                thread.setDaemon(true);
                return thread;
            });
            publisher.scheduleAtFixedRate(() -> publish(store, counts), 0, PUBLISH_MILLIS, TimeUnit.MILLISECONDS);
            CompletableFuture<Boolean> started = new CompletableFuture<>();
            CompletableFuture<Void> stopped = new CompletableFuture<>();
            listen(started, stopped);
            counts.set(WindowCounts.STATE, WindowCounts.READY);
            if (started.get()) {
                publish(store, counts);
                counts.markStart();
                go.countDown();
                try {
                    stopped.get(duration.toSeconds() + GRACE_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    System.err.println("replica " + index + ": no stop from the coordinator; stopping");
                }
            }
            stop.set(true);
            go.countDown();
            for (Thread worker : workers) {
                worker.join(TimeUnit.SECONDS.toMillis(10));
            }
            publisher.shutdownNow();
            publisher.awaitTermination(1, TimeUnit.SECONDS);
            store.close();
            publish(store, counts);
            counts.set(WindowCounts.STATE, WindowCounts.DONE);
            return 0;
        } finally {
            client.shutdown();
        }
    }

    /** Reads the coordinator's lines on a thread of its own: {@code started} on {@code go}, {@code stopped} after. */
    private void listen(CompletableFuture<Boolean> started, CompletableFuture<Void> stopped) {
        Thread listener = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("go")) {
                        started.complete(true);
                    } else if (line.equals("stop")) {
                        break;
                    }
                }
            } catch (IOException e) {
                System.err.println("replica " + index + ": standard input failed: " + e);
            }
            started.complete(false);
            stopped.complete(null);
        }, "replica-" + index + "-listener");
        listener.setDaemon(true);
        listener.start();
    }

    /**
     * Sends the warm-up tenant's check at the run's pace for {@code --warm-up}, so that the run starts with compiled
     * code: a JVM that starts cold sends far less than its pace for its first seconds.
     */
    private void warmUp(BudgetResolver resolver, WindowCounts counts) throws InterruptedException {
        if (warmUpMillis <= 0) {
            return;
        }
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmUpMillis);
        List<Thread> workers = startWorkers("warm-up-t", random -> pace(resolver, HotKey.warmUpRequest(), false,
                counts, random, () -> System.nanoTime() < until));
        for (Thread worker : workers) {
            worker.join();
        }
    }

    private List<Thread> startWorkers(String name, Consumer<SplittableRandom> task) {
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            SplittableRandom random = new SplittableRandom(index * 7919L + t);
            Thread worker = new Thread(() -> task.accept(random), "replica-" + index + "-" + name + t);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
        return workers;
    }

    /** Sends {@code request} at the pace while {@code running}, counting its decisions when {@code counted}. */
    private void pace(BudgetResolver resolver, CheckRequest request, boolean counted, WindowCounts counts,
                      SplittableRandom random, BooleanSupplier running) {
        long pause = Math.round(1e9 / rate);
        // Workers start spread over one pause, so that they do not call in step.
        long nextAt = System.nanoTime() + random.nextLong(pause);
        while (running.getAsBoolean()) {
            long now = System.nanoTime();
            while (nextAt > now && running.getAsBoolean()) {
                LockSupport.parkNanos(nextAt - now);
                now = System.nanoTime();
            }
            if (!running.getAsBoolean()) {
                return;
            }
            // Paced from the schedule, not from the wake-up, which comes late by the timer's slack every time: else
            // demand would fall short of the rate. A worker more than one pause behind goes on from now instead of
            // catching up in a burst.
            nextAt = now - nextAt > pause ? now + pause : nextAt + pause;
            try {
                Decision decision = resolver.check(request);
                if (counted) {
                    record(counts, decision);
                }
            } catch (RuntimeException e) {
                if (counts.get(WindowCounts.ERRORS) == 0) {
                    System.err.println("replica " + index + ": first failed check: " + e);
                }
                counts.add(WindowCounts.ERRORS, 1);
            }
        }
    }

    private static void record(WindowCounts counts, Decision decision) {
        LimitUsage hot = HotKey.hotUsage(decision.limits());
        counts.decided(hot == null ? Long.MIN_VALUE : hot.window().startMillis(), decision.allowed());
    }

    private static void publish(RedisGovernanceStore store, WindowCounts counts) {
        RedisStoreStats stats = store.stats();
        counts.set(WindowCounts.SLICES_HELD, stats.slicesHeld());
        counts.set(WindowCounts.LOCAL_ADMISSIONS, stats.localAdmissions());
        counts.set(WindowCounts.SHARED_DECISIONS, stats.sharedDecisions());
        counts.set(WindowCounts.SLICE_REFILLS, stats.sliceRefills());
        counts.set(WindowCounts.SLICE_RETURNS, stats.sliceReturns());
        counts.set(WindowCounts.CACHED_DENIALS, stats.cachedDenials());
        counts.set(WindowCounts.PUBLISHED_AT, System.currentTimeMillis());
    }
}
