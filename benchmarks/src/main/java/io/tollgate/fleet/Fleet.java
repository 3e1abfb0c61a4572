package io.tollgate.fleet;

import io.tollgate.BudgetResolver;
import io.tollgate.CallPart;
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
import io.tollgate.redis.RedisStoreStats;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.GovernanceStore;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
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
 * {@code threads} workers that send the {@link Workload}'s requests at a steady pace, charge what the admitted calls
 * used (answered whole, streamed in chunks, failed part-way) and now and then re-send a charged update through
 * another replica, as a gateway retrying after a timeout would. Prints a progress line per second and the
 * {@link Report} at the end; on Redis, also what the run cost in Redis calls per decision.
 *
 * <p>Not thread-safe: {@link #run} once, from one thread; it starts and joins the workers itself.
 */
final class Fleet {

    /** Exit codes of a run. */
    static final int OK = 0;
    static final int LIMIT_EXCEEDED = 1;
    static final int STORE_ERRORS = 3;

    /** Percent of charged updates that the gateway sends again. */
    static final int RESENT_PERCENT = 2;
    /** Checks, then charges, made one at a time after the run to measure each kind of decision on its own. */
    static final int PROBE_CALLS = 20;

    private final Settings settings;
    private final PrintStream out;
    /** Stores given by a test, else null: the run opens those the settings name. */
    private final Stores givenStores;
    private final Ledger ledger = new Ledger();
    private final CountingStore.Calls storeCalls = new CountingStore.Calls();
    private final Recorder checkLatency = new Recorder(3);
    private final Recorder chargeLatency = new Recorder(3);
    private final Histogram checkTotal = new Histogram(3);
    private final Histogram chargeTotal = new Histogram(3);
    private final AtomicBoolean stop = new AtomicBoolean();
    // Ids unique to this run, so a Redis that outlives the run never sees an old request id again.
    private final String runId = UUID.randomUUID().toString().substring(0, 8);

    /**
     * What a run does; {@code privateRedis} says that nobody else uses the Redis at {@code redisUri} (one the tool
     * started), so that its command counts are the run's alone.
     */
    record Settings(int replicas, int threads, Duration duration, FleetConfig config, String redisUri,
                    boolean privateRedis, long seed, double ratePerThread, boolean leases) {
    }

    /** One simulated gateway replica. */
    private record Replica(int index, BudgetResolver resolver, UsageTracker tracker) {
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

    /** What the run saw; complete once {@link #run} returned. */
    Ledger ledger() {
        return ledger;
    }

    int run() throws InterruptedException {
        GovernanceConfig config = settings.config().config();
        Workload workload = new Workload(config, settings.config().keyWeights());
        try (Stores stores = givenStores != null ? givenStores
                : Stores.open(settings.redisUri(), settings.replicas(), runId, settings.duration(),
                        settings.leases())) {
            List<Replica> replicas = new ArrayList<>();
            for (int i = 0; i < settings.replicas(); i++) {
                GovernanceStore store = new CountingStore(stores.store(i), storeCalls);
                replicas.add(new Replica(i, BudgetResolver.create(store, config), UsageTracker.create(store, config)));
            }
            out.printf(Locale.ROOT, "fleet: %d replicas x %d threads, %s, for %s on %s%n",
                    settings.replicas(), settings.threads(), pace(), FleetMain.format(settings.duration()),
                    stores.description());
            out.printf(Locale.ROOT, "config: %s (%s); %.1f %% of requests from tenants, %s%n",
                    settings.config().source(), config, 100 * workload.share(Workload.Kind.TENANT),
                    settings.config().keyWeights().isEmpty() ? "the first keys sending the most"
                            : "weighted per key");
            RedisCommandStats commandStats = stores.commandStats();
            RedisCommandStats.Counts before = commandStats == null ? null : commandStats.firstReading(out);
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
            Report.RedisCalls redisCalls = before == null ? null
                    : redisCalls(commandStats, before, stores.cachedDenials(), stores.leasedAdmission());
            Map<Limit, CounterState> used = readUsed(stores.store(0));
            if (redisCalls != null && redisCalls.run() != null) {
                redisCalls = redisCalls.withProbe(probe(replicas.get(0), workload, commandStats));
            }
            return new Report(ledger, used, checkTotal, chargeTotal, seconds, redisCalls).print(out);
        }
    }

    private String pace() {
        if (settings.ratePerThread() <= 0) {
            return "each as fast as the store answers";
        }
        return String.format(Locale.ROOT, "%,.0f checks/s each (%,.0f in all)", settings.ratePerThread(),
                settings.ratePerThread() * settings.replicas() * settings.threads());
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
            long checked = checksNow - checksBefore;
            out.printf(Locale.ROOT, "[%5.1fs] checks %,7.0f/s  admitted %5.1f %%  charges %,7.0f/s  re-sent %,d "
                            + "(charged twice %d)  errors %d  check p99 %,d us%n",
                    (now - started) / 1e9, checked / interval,
                    checked == 0 ? 0.0 : 100.0 * (allowedNow - allowedBefore) / checked,
                    (chargesNow - chargesBefore) / interval, ledger.resent.sum(), ledger.chargedTwice.sum(),
                    ledger.errors.sum(), TimeUnit.NANOSECONDS.toMicros(checks.getValueAtPercentile(99)));
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
        // Workers start spread over one pause, so that the replicas do not call in step.
        long nextAt = System.nanoTime() + (pause > 0 ? random.nextLong(pause) : 0);
        while (!stop.get()) {
            long now = System.nanoTime();
            while (nextAt > now && !stop.get()) {
                LockSupport.parkNanos(nextAt - now);
                now = System.nanoTime();
            }
            if (stop.get() || now >= deadline) {
                return;
            }
            // A worker that fell behind (a slow store) goes on from now instead of catching up in a burst.
            nextAt = Math.max(nextAt, now) + pause;
            Workload.Target target = workload.target(random);
            String user = workload.user(random);
            try {
                CheckRequest request = workload.check(target, user, random);
                long t0 = System.nanoTime();
                Decision decision = replica.resolver().check(request);
                checkLatency.recordValue(System.nanoTime() - t0);
                ledger.record(target.kind(), decision);
                if (decision.allowed()) {
                    call(replica, replicas, workload.call(random), target, user,
                            decision.reservation().orElseThrow(), prefix + sequence++, random);
                }
            } catch (RuntimeException e) {
                ledger.error(e);
            }
        }
    }

    /** Charges the upstream call's usage as a gateway would: whole, chunk by chunk, or what a failed call used. */
    private void call(Replica replica, List<Replica> replicas, Workload.Call call, Workload.Target target,
                      String user, Reservation reservation, String requestId, SplittableRandom random) {
        switch (call.shape()) {
            case WHOLE -> {
                ledger.wholeCalls.increment();
                charge(replica, replicas, update(target, user, requestId, reservation, call.tokens()).build(), random);
            }
            case FAILED -> {
                ledger.failedCalls.increment();
                charge(replica, replicas, update(target, user, requestId, reservation, call.tokens())
                        .success(false).build(), random);
            }
            case STREAMED -> {
                ledger.streamedCalls.increment();
                for (int chunk = 0; chunk < call.chunks(); chunk++) {
                    // As most providers stream: the usage comes once, with the final chunk.
                    boolean last = chunk == call.chunks() - 1;
                    UsageUpdate update = update(target, user, requestId, reservation, last ? call.tokens() : 0)
                            .chunk(chunk).part(last ? CallPart.LAST_CHUNK_WITH_USAGE : CallPart.CHUNK).build();
                    ledger.chunks.increment();
                    ChargeOutcome outcome = charge(replica, replicas, update, random);
                    if (outcome == ChargeOutcome.CHARGED) {
                        ledger.chunksCharged.increment();
                    }
                }
            }
            default -> throw new IllegalStateException("unknown call shape " + call.shape());
        }
    }

    private static UsageUpdate.Builder update(Workload.Target target, String user, String requestId,
                                              Reservation reservation, long tokens) {
        Money cost = Workload.cost(target.model(), tokens);
        return UsageUpdate.builder().virtualKey(target.secret()).user(user).provider(target.provider())
                .model(target.model()).tokens(tokens).cost(cost).requestId(requestId).reservation(reservation);
    }

    private ChargeOutcome charge(Replica replica, List<Replica> replicas, UsageUpdate update,
                                 SplittableRandom random) {
        long t0 = System.nanoTime();
        ChargeOutcome outcome = replica.tracker().charge(update);
        long took = System.nanoTime() - t0;
        // A chunk without usage is answered without the store; it is no charge to count or time.
        if (outcome != ChargeOutcome.NOTHING_TO_CHARGE) {
            chargeLatency.recordValue(took);
            ledger.charges.increment();
        }
        if (outcome == ChargeOutcome.CHARGED && random.nextInt(100) < RESENT_PERCENT) {
            // The same request id and chunk again, possibly through another replica: it must count once.
            Replica other = replicas.get(random.nextInt(replicas.size()));
            ledger.resent.increment();
            ledger.charges.increment();
            ChargeOutcome again = other.tracker().charge(update);
            if (again == ChargeOutcome.DUPLICATE) {
                ledger.refusedAsDuplicate.increment();
            } else {
                ledger.chargedTwice.increment();
            }
        }
        return outcome;
    }

    /**
     * {@code cachedDenials}: checks the stores' denial caches answered, which never reached Redis; {@code leased}:
     * what leased admission did, {@code null} without it.
     */
    private Report.RedisCalls redisCalls(RedisCommandStats stats, RedisCommandStats.Counts before,
                                         long cachedDenials, RedisStoreStats leased) {
        // neither a denial from memory nor an admission from a slice reaches Redis
        long reserves = storeCalls.reserves.sum() - cachedDenials - (leased == null ? 0 : leased.localAdmissions());
        long charges = storeCalls.charges.sum();
        try {
            RedisCommandStats.Counts run = stats.read().since(before);
            return new Report.RedisCalls(settings.privateRedis(),
                    new RedisCommandStats.PerDecision(run, reserves + charges), reserves, charges, cachedDenials,
                    leased, null, null);
        } catch (RuntimeException e) {
            return new Report.RedisCalls(settings.privateRedis(), null, reserves, charges, cachedDenials, leased,
                    null, e.toString());
        }
    }

    /**
     * After the run, with nothing else going on: {@value #PROBE_CALLS} checks of the busiest tenant's request one
     * after the other, then as many charges, each batch between two readings, to tell a check's Redis calls from a
     * charge's (the run's own reading cannot, as checks and charges interleave).
     */
    private Report.Probe probe(Replica replica, Workload workload, RedisCommandStats stats) {
        Workload.Target target = workload.busiest();
        try {
            CheckRequest request = CheckRequest.builder().virtualKey(target.secret()).provider(target.provider())
                    .model(target.model()).build();
            List<Reservation> reservations = new ArrayList<>();
            RedisCommandStats.Counts start = stats.read();
            long reserves = storeCalls.reserves.sum();
            for (int i = 0; i < PROBE_CALLS; i++) {
                reservations.add(replica.resolver().check(request).reservation().orElse(null));
            }
            RedisCommandStats.Counts checked = stats.read();
            reserves = storeCalls.reserves.sum() - reserves;
            long charges = storeCalls.charges.sum();
            for (int i = 0; i < PROBE_CALLS; i++) {
                replica.tracker().charge(update(target, null, runId + "-probe-" + i, reservations.get(i), 500).build());
            }
            RedisCommandStats.Counts charged = stats.read();
            charges = storeCalls.charges.sum() - charges;
            return new Report.Probe(target, new RedisCommandStats.PerDecision(checked.since(start), reserves),
                    new RedisCommandStats.PerDecision(charged.since(checked), charges), null);
        } catch (RuntimeException e) {
            return new Report.Probe(target, null, null, e.toString());
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

        static Stores open(String redisUri, int replicas, String runId, Duration duration, boolean leases) {
            if (redisUri == null) {
                return new MemoryStores();
            }
            return RedisStores.open(redisUri, replicas, runId, duration, leases);
        }

        abstract GovernanceStore store(int replica);

        abstract String description();

        /** A reader of the shared server's command counts, or {@code null} when the store is no server. */
        RedisCommandStats commandStats() {
            return null;
        }

        /** Checks the stores denied from their memory of spent counters, without a call, so far. */
        long cachedDenials() {
            return 0;
        }

        /** What leased admission did so far, summed over the replicas; {@code null} when the stores lease nothing. */
        RedisStoreStats leasedAdmission() {
            return null;
        }

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
