package io.tollgate.fleet;

import io.tollgate.BudgetResolver;
import io.tollgate.ChargeOutcome;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Limit;
import io.tollgate.Money;
import io.tollgate.Reservation;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.GovernanceStore;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * One fleet run: {@code replicas} simulated gateway replicas, each with its own store client (for the in-memory store,
 * one shared store stands for the shared server), its own {@link BudgetResolver} and {@link UsageTracker}, and
 * {@code threads} workers that check, charge (plain, streamed in chunks, failed calls) and now and then re-send an
 * update through another replica. Prints a progress line per second and the report at the end.
 *
 * <p>Not thread-safe: {@link #run} once, from one thread; it starts and joins the workers itself.
 */
final class Fleet {

    /** Exit codes of a run. */
    static final int OK = 0;
    static final int LIMIT_EXCEEDED = 1;
    static final int STORE_ERRORS = 3;

    private final Settings settings;
    private final PrintStream out;
    /** Stores given by a test, else null: the run opens those the settings name. */
    private final Stores givenStores;
    private final Ledger ledger = new Ledger();
    private final Recorder checkLatency = new Recorder(3);
    private final Recorder chargeLatency = new Recorder(3);
    private final Histogram checkTotal = new Histogram(3);
    private final Histogram chargeTotal = new Histogram(3);
    private final AtomicBoolean stop = new AtomicBoolean();
    // Ids unique to this run, so a Redis that outlives the run never sees an old request id again.
    private final String runId = UUID.randomUUID().toString().substring(0, 8);

    /** What a run does. */
    record Settings(int replicas, int threads, Duration duration, FleetConfig config, String redisUri, long seed,
                    double ratePerThread) {
    }

    /** One simulated gateway replica. */
    private record Replica(int index, GovernanceStore store, BudgetResolver resolver, UsageTracker tracker) {
    }

    Fleet(Settings settings, PrintStream out) {
        this(settings, out, null);
    }

    /** A run on {@code stores} instead of those the settings name; the run closes them. */
    Fleet(Settings settings, PrintStream out, Stores stores) {
        this.settings = settings;
        this.out = out;
        this.givenStores = stores;
    }

    int run() throws InterruptedException {
        GovernanceConfig config = settings.config().config();
        Workload workload = new Workload(config);
        try (Stores stores = givenStores != null ? givenStores
                : Stores.open(settings.redisUri(), settings.replicas(), runId, settings.duration())) {
            List<Replica> replicas = new ArrayList<>();
            for (int i = 0; i < settings.replicas(); i++) {
                GovernanceStore store = stores.store(i);
                replicas.add(new Replica(i, store, BudgetResolver.create(store, config),
                        UsageTracker.create(store, config)));
            }
            out.printf("fleet: %d replicas x %d threads for %s on %s, config %s (%s), %d request targets%n",
                    settings.replicas(), settings.threads(), FleetMain.format(settings.duration()),
                    stores.description(), settings.config().source(), config, workload.size());
            long started = System.nanoTime();
            long deadline = started + settings.duration().toNanos();
            List<Thread> workers = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (Replica replica : replicas) {
                for (int t = 0; t < settings.threads(); t++) {
                    SplittableRandom random = new SplittableRandom(settings.seed() * 7919 + replica.index() * 131L + t);
                    String prefix = runId + "-r" + replica.index() + "t" + t + "-";
                    Thread worker = new Thread(() -> work(replica, replicas, workload, random, prefix, go, deadline),
                            "fleet-r" + replica.index() + "-t" + t);
                    worker.setDaemon(true);
                    workers.add(worker);
                    worker.start();
                }
            }
            go.countDown();
            progress(started, deadline);
            stop.set(true);
            double seconds = (System.nanoTime() - started) / 1e9;
            for (Thread worker : workers) {
                worker.join(TimeUnit.SECONDS.toMillis(30));
            }
            checkTotal.add(checkLatency.getIntervalHistogram());
            chargeTotal.add(chargeLatency.getIntervalHistogram());
            Map<Limit, CounterState> used = readUsed(replicas.get(0).store());
            return new Report(ledger, used, checkTotal, chargeTotal, seconds).print(out);
        }
    }

    private void progress(long started, long deadline) throws InterruptedException {
        long checksBefore = 0;
        long allowedBefore = 0;
        long chargesBefore = 0;
        long last = started;
        long next = started + TimeUnit.SECONDS.toNanos(1);
        while (true) {
            long now = System.nanoTime();
            long wake = Math.min(next, deadline);
            if (wake > now) {
                TimeUnit.NANOSECONDS.sleep(wake - now);
            }
            now = System.nanoTime();
            double interval = (now - last) / 1e9;
            last = now;
            Histogram checks = checkLatency.getIntervalHistogram();
            chargeTotal.add(chargeLatency.getIntervalHistogram());
            checkTotal.add(checks);
            long checksNow = ledger.checks.sum();
            long allowedNow = ledger.allowed.sum();
            long chargesNow = ledger.charges.sum();
            out.printf("[%5.1fs] checks %,9.0f/s  allowed %,8.0f/s  charges %,9.0f/s  re-sent %,d (charged twice %d)"
                            + "  errors %d  check p99 %,d us%n",
                    (now - started) / 1e9, (checksNow - checksBefore) / interval,
                    (allowedNow - allowedBefore) / interval, (chargesNow - chargesBefore) / interval,
                    ledger.resent.sum(), ledger.chargedTwice.sum(), ledger.errors.sum(),
                    TimeUnit.NANOSECONDS.toMicros(checks.getValueAtPercentile(99)));
            checksBefore = checksNow;
            allowedBefore = allowedNow;
            chargesBefore = chargesNow;
            if (now >= deadline) {
                return;
            }
            next += TimeUnit.SECONDS.toNanos(1);
        }
    }

    private void work(Replica replica, List<Replica> replicas, Workload workload, SplittableRandom random,
                      String prefix, CountDownLatch go, long deadline) {
        try {
            go.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        long sequence = 0;
        long pause = settings.ratePerThread() > 0 ? Math.round(1e9 / settings.ratePerThread()) : 0;
        long nextAt = System.nanoTime();
        while (!stop.get() && System.nanoTime() < deadline) {
            if (pause > 0) {
                nextAt += pause;
                long wait = nextAt - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            Workload.Target target = workload.target(random);
            String user = workload.user(random);
            try {
                CheckRequest request = workload.check(target, user, random);
                long t0 = System.nanoTime();
                Decision decision = replica.resolver().check(request);
                checkLatency.recordValue(System.nanoTime() - t0);
                ledger.record(decision);
                if (decision.allowed()) {
                    call(replica, replicas, target, user, decision.reservation().orElseThrow(),
                            prefix + sequence++, random);
                }
            } catch (RuntimeException e) {
                ledger.error(e);
            }
        }
    }

    /** The upstream call's usage, charged as a gateway would: whole, streamed, or failed part-way. */
    private void call(Replica replica, List<Replica> replicas, Workload.Target target, String user,
                      Reservation reservation, String requestId, SplittableRandom random) {
        long tokens = 50 + random.nextInt(1_500);
        int kind = random.nextInt(100);
        if (kind < 60) {
            charge(replica, replicas, update(target, user, requestId, reservation, tokens).build(), random);
        } else if (kind < 90) {
            int chunks = 2 + random.nextInt(5);
            boolean usageOnEveryChunk = random.nextBoolean();
            long perChunk = Math.max(1, tokens / chunks);
            for (int chunk = 0; chunk < chunks; chunk++) {
                boolean last = chunk == chunks - 1;
                boolean usage = usageOnEveryChunk || last;
                long chunkTokens = !usage ? 0 : usageOnEveryChunk ? perChunk : tokens;
                UsageUpdate update = update(target, user, requestId, reservation, chunkTokens).chunk(chunk)
                        .streaming(last, usage).build();
                charge(replica, replicas, update, random);
            }
        } else {
            // A call that failed after consuming tokens (a cancelled or timed-out stream) is still charged.
            UsageUpdate update = update(target, user, requestId, reservation, tokens / 3).success(false).build();
            charge(replica, replicas, update, random);
        }
    }

    private static UsageUpdate.Builder update(Workload.Target target, String user, String requestId,
                                              Reservation reservation, long tokens) {
        Money cost = Workload.cost(target.model(), tokens);
        return UsageUpdate.builder().virtualKey(target.secret()).user(user).provider(target.provider())
                .model(target.model()).tokens(tokens).cost(cost).requestId(requestId).reservation(reservation);
    }

    private void charge(Replica replica, List<Replica> replicas, UsageUpdate update, SplittableRandom random) {
        long t0 = System.nanoTime();
        ChargeOutcome outcome = replica.tracker().charge(update);
        chargeLatency.recordValue(System.nanoTime() - t0);
        ledger.charges.increment();
        // Now and then the gateway re-sends an update (a retry after a timeout), possibly through another replica.
        if (outcome == ChargeOutcome.CHARGED && random.nextInt(100) < 3) {
            Replica other = replicas.get(random.nextInt(replicas.size()));
            ledger.resent.increment();
            ChargeOutcome again = other.tracker().charge(update);
            if (again == ChargeOutcome.DUPLICATE) {
                ledger.refusedAsDuplicate.increment();
            } else {
                ledger.chargedTwice.increment();
            }
        }
    }

    private Map<Limit, CounterState> readUsed(GovernanceStore store) {
        Map<Limit, CounterState> used = new HashMap<>();
        for (Ledger.LimitStats stats : ledger.limits()) {
            try {
                List<CounterState> states = store.read(List.of(stats.limit)).toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
                used.put(stats.limit, states.get(0));
            } catch (Exception e) {
                ledger.error(new IllegalStateException("reading " + stats.limit + ": " + e, e));
            }
        }
        return used;
    }

    /**
     * The stores of a run: one shared in-memory store, or one Redis store per replica, each on its own client.
     *
     * <p>Not thread-safe; opened and closed by the run.
     */
    abstract static class Stores implements AutoCloseable {

        static Stores open(String redisUri, int replicas, String runId, Duration duration) {
            if (redisUri == null) {
                return new MemoryStores();
            }
            return RedisStores.open(redisUri, replicas, runId, duration);
        }

        abstract GovernanceStore store(int replica);

        abstract String description();

        @Override
        public abstract void close();
    }

    private static final class MemoryStores extends Stores {
        private final InMemoryGovernanceStore store = InMemoryGovernanceStore.create();

        @Override
        GovernanceStore store(int replica) {
            return store;
        }

        @Override
        String description() {
            return "the in-memory store (one store shared by every replica, standing for the shared server)";
        }

        @Override
        public void close() {
            store.close();
        }
    }
}
