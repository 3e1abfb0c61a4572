package io.tollgate.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tollgate.ChargeOutcome;
import io.tollgate.Decision;
import io.tollgate.Holder;
import io.tollgate.HolderKind;
import io.tollgate.Limit;
import io.tollgate.LimitUsage;
import io.tollgate.Metric;
import io.tollgate.Money;
import io.tollgate.TollgateListener;

import java.time.Instant;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tollgate's events as Micrometer meters. Pass one instance to {@link io.tollgate.BudgetResolver#withListener},
 * {@link io.tollgate.UsageTracker#withListener}, the resilient store's builder ({@code tollgate-resilience}) and to the snapshot flusher's builder
 * ({@code tollgate-jdbc-store}). Works with any store, the in-memory one included.
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@code tollgate.decisions}</td><td>counter</td><td>{@code outcome}, {@code holder_kind} (of the limit
 *       that denied; {@code none} otherwise), {@code degraded}</td><td>checks decided</td></tr>
 *   <tr><td>{@code tollgate.shadow.denials}</td><td>counter</td><td>{@code outcome} (that enforcing would have
 *       decided), {@code holder_kind}, {@code metric} (of the shadowed limit that would have denied; {@code none} for
 *       a store that could not answer)</td><td>allowed checks that limits in shadow would have denied</td></tr>
 *   <tr><td>{@code tollgate.limit.near}</td><td>counter</td><td>{@code holder_kind}, {@code metric}</td><td>counters
 *       an admitted check brought to the near-limit ratio, once per counter and window</td></tr>
 *   <tr><td>{@code tollgate.charges}</td><td>counter</td><td>{@code outcome} ({@code charged}, {@code duplicate},
 *       {@code nothing_to_charge}, {@code failed})</td><td>charges ended</td></tr>
 *   <tr><td>{@code tollgate.charged.tokens}</td><td>counter</td><td>{@code holder_kind}</td><td>tokens charged to
 *       holders of that kind</td></tr>
 *   <tr><td>{@code tollgate.charged.cost}</td><td>counter</td><td>{@code holder_kind}</td><td>dollars charged to
 *       holders of that kind</td></tr>
 *   <tr><td>{@code tollgate.store.latency}</td><td>timer</td><td>{@code operation}, {@code result}
 *       ({@code success}/{@code failure})</td><td>calls to the shared store, timeouts included</td></tr>
 *   <tr><td>{@code tollgate.store.circuit.state}</td><td>gauge</td><td></td><td>0 available (closed), 1 probing
 *       (half open), 2 unavailable (open)</td></tr>
 *   <tr><td>{@code tollgate.store.circuit.transitions}</td><td>counter</td><td>{@code state}</td><td>changes of
 *       circuit state</td></tr>
 *   <tr><td>{@code tollgate.usage.buffer.size}</td><td>gauge</td><td></td><td>charges waiting for replay</td></tr>
 *   <tr><td>{@code tollgate.usage.buffered}</td><td>counter</td><td></td><td>charges buffered</td></tr>
 *   <tr><td>{@code tollgate.usage.replayed}</td><td>counter</td><td></td><td>buffered charges the store took</td></tr>
 *   <tr><td>{@code tollgate.usage.dropped}</td><td>counter</td><td></td><td>charges given up: usage lost</td></tr>
 *   <tr><td>{@code tollgate.store.data.losses}</td><td>counter</td><td></td><td>times the store had lost its
 *       data</td></tr>
 *   <tr><td>{@code tollgate.restore.runs}</td><td>counter</td><td>{@code result}</td><td>restores after data loss
 *       (as the resilient store's restore watch reports them)</td></tr>
 *   <tr><td>{@code tollgate.restore.snapshots}</td><td>counter</td><td></td><td>snapshots read by restores</td></tr>
 *   <tr><td>{@code tollgate.flush.lag}</td><td>gauge</td><td></td><td>seconds since the last successful snapshot
 *       flush (NaN before the first)</td></tr>
 *   <tr><td>{@code tollgate.flush.pending}</td><td>gauge</td><td></td><td>counter values waiting to be
 *       flushed</td></tr>
 *   <tr><td>{@code tollgate.flush.attempts}</td><td>counter</td><td>{@code result}</td><td>flush attempts</td></tr>
 *   <tr><td>{@code tollgate.slices.taken}</td><td>counter</td><td>{@code holder_kind}, {@code metric}</td><td>what
 *       slices of leased admission took from the shared counters</td></tr>
 *   <tr><td>{@code tollgate.slices.returned}</td><td>counter</td><td>{@code holder_kind}, {@code metric}</td><td>what
 *       unused slices gave back</td></tr>
 *   <tr><td>{@code tollgate.slices.checks}</td><td>counter</td><td>{@code path} ({@code local}, {@code shared})</td>
 *       <td>checks of leased limits: admitted from this replica's slices, or decided by a store call</td></tr>
 *   <tr><td>{@code tollgate.slices.held}</td><td>gauge</td><td></td><td>what this replica holds unused of its
 *       slices</td></tr>
 * </table>
 * Tags have few values: holder kinds, not holder ids, and never a virtual key's secret. A listener built with
 * {@link Builder#holderIds} adds a {@code holder_id} tag to every meter with a {@code holder_kind}: the holder's id
 * for the kinds named ({@code none} for the others), for the few holders (customers, teams) whose own series are worth
 * their cost; every distinct id is a series of its own. A charge reaches every level of its request at once, so
 * {@code tollgate.charged.*} count it once under each holder kind it reached (two model configs of one charge count
 * once):
 * read them for one {@code holder_kind}, never summed across kinds.
 *
 * <p>Thread-safe; meters are created once and cached.
 */
public final class MicrometerListener implements TollgateListener {

    private static final String NONE = "none";

    private final MeterRegistry registry;
    /** The holder kinds whose ids are tags; empty for none (and then there is no {@code holder_id} tag). */
    private final Set<HolderKind> holderIds;
    private final Map<String, Counter> decisions = new ConcurrentHashMap<>();
    private final Map<String, Counter> shadowDenials = new ConcurrentHashMap<>();
    private final Map<String, Counter> nearLimits = new ConcurrentHashMap<>();
    private final Map<ChargeOutcome, Counter> charges = new ConcurrentHashMap<>();
    private final Map<String, Counter> chargedTokens = new ConcurrentHashMap<>();
    private final Map<String, Counter> chargedCost = new ConcurrentHashMap<>();
    private final Counter chargesFailed;
    private final Map<String, Timer> latencies = new ConcurrentHashMap<>();
    private final Map<StoreState, Counter> transitions = new ConcurrentHashMap<>();
    private final AtomicInteger circuit = new AtomicInteger();
    private final AtomicInteger bufferSize = new AtomicInteger();
    private final AtomicInteger flushPending = new AtomicInteger();
    /** Epoch milliseconds of the last successful flush; Long.MIN_VALUE before it. */
    private final AtomicLong lastFlush = new AtomicLong(Long.MIN_VALUE);
    private final Counter buffered;
    private final Counter replayed;
    private final Counter dropped;
    private final Counter dataLosses;
    private final Counter restoresSucceeded;
    private final Counter restoresFailed;
    private final Counter restoredSnapshots;
    private final Counter flushesSucceeded;
    private final Counter flushesFailed;
    private final Map<String, Counter> slicesTaken = new ConcurrentHashMap<>();
    private final Map<String, Counter> slicesReturned = new ConcurrentHashMap<>();
    private final AtomicLong slicesHeld = new AtomicLong();
    private final Counter localChecks;
    private final Counter sharedChecks;

    private MicrometerListener(MeterRegistry registry, Set<HolderKind> holderIds) {
        this.registry = registry;
        this.holderIds = holderIds;
        Gauge.builder("tollgate.store.circuit.state", circuit, AtomicInteger::get)
                .description("0 available (closed), 1 probing (half open), 2 unavailable (open)")
                .strongReference(true).register(registry);
        Gauge.builder("tollgate.usage.buffer.size", bufferSize, AtomicInteger::get)
                .description("charges waiting for replay").strongReference(true).register(registry);
        Gauge.builder("tollgate.flush.pending", flushPending, AtomicInteger::get)
                .description("counter values waiting to be flushed").strongReference(true).register(registry);
        Gauge.builder("tollgate.flush.lag", lastFlush, this::flushLagSeconds).baseUnit("seconds")
                .description("time since the last successful snapshot flush").strongReference(true).register(registry);
        buffered = Counter.builder("tollgate.usage.buffered").description("charges buffered").register(registry);
        replayed = Counter.builder("tollgate.usage.replayed").description("buffered charges the store took")
                .register(registry);
        dropped = Counter.builder("tollgate.usage.dropped").description("charges given up: usage lost")
                .register(registry);
        dataLosses = Counter.builder("tollgate.store.data.losses").description("times the store lost its data")
                .register(registry);
        restoresSucceeded = Counter.builder("tollgate.restore.runs").tag("result", "success").register(registry);
        restoresFailed = Counter.builder("tollgate.restore.runs").tag("result", "failure").register(registry);
        restoredSnapshots = Counter.builder("tollgate.restore.snapshots").register(registry);
        flushesSucceeded = Counter.builder("tollgate.flush.attempts").tag("result", "success").register(registry);
        flushesFailed = Counter.builder("tollgate.flush.attempts").tag("result", "failure").register(registry);
        chargesFailed = Counter.builder("tollgate.charges").description("charges ended").tag("outcome", "failed")
                .register(registry);
        Gauge.builder("tollgate.slices.held", slicesHeld, AtomicLong::get)
                .description("what this replica holds unused of its leased slices").strongReference(true)
                .register(registry);
        localChecks = Counter.builder("tollgate.slices.checks").tag("path", "local")
                .description("checks of leased limits, by who decided").register(registry);
        sharedChecks = Counter.builder("tollgate.slices.checks").tag("path", "shared")
                .description("checks of leased limits, by who decided").register(registry);
    }

    /** A listener whose meters live in {@code registry}, with holder kinds as tags and no holder id. */
    public static MicrometerListener create(MeterRegistry registry) {
        return builder(registry).build();
    }

    /** A builder of a listener whose meters live in {@code registry}. */
    public static Builder builder(MeterRegistry registry) {
        return new Builder(Objects.requireNonNull(registry, "registry"));
    }

    @Override
    public void decided(Decision decision) {
        HolderTags holder = holderTags(decision.deniedBy().map(usage -> usage.limit().holder()).orElse(null));
        String outcome = lower(decision.outcome());
        String key = outcome + '|' + holder.key + '|' + decision.degraded();
        decisions.computeIfAbsent(key, k -> Counter.builder("tollgate.decisions")
                .description("checks decided")
                .tags(holder.tags.and("outcome", outcome, "degraded", Boolean.toString(decision.degraded())))
                .register(registry)).increment();
        if (decision.shadowDenied()) {
            shadowDenied(decision);
        }
    }

    private void shadowDenied(Decision decision) {
        LimitUsage by = decision.shadowDeniedBy().orElse(null);
        HolderTags holder = holderTags(by == null ? null : by.limit().holder());
        String outcome = lower(decision.shadowOutcome().orElseThrow());
        String metric = by == null ? NONE : lower(by.limit().metric());
        shadowDenials.computeIfAbsent(outcome + '|' + holder.key + '|' + metric,
                k -> Counter.builder("tollgate.shadow.denials")
                        .description("allowed checks that limits in shadow would have denied")
                        .tags(holder.tags.and("outcome", outcome, "metric", metric))
                        .register(registry)).increment();
    }

    @Override
    public void nearLimit(LimitUsage usage, double ratio) {
        HolderTags holder = holderTags(usage.limit().holder());
        Metric metric = usage.limit().metric();
        nearLimits.computeIfAbsent(holder.key + '|' + metric, k -> Counter.builder("tollgate.limit.near")
                .description("counters brought to the near-limit ratio of their maximum, once per window")
                .tags(holder.tags.and("metric", lower(metric)))
                .register(registry)).increment();
    }

    @Override
    public void charged(ChargeOutcome outcome, List<Limit> limits, long tokens, Money cost) {
        charges.computeIfAbsent(outcome, o -> Counter.builder("tollgate.charges").description("charges ended")
                .tag("outcome", lower(o)).register(registry)).increment();
        if (tokens == 0 && cost.signum() == 0) {
            return;
        }
        double dollars = cost.nanos() / 1e9;
        // once per holder tags, however many limits of the request share them
        Set<String> counted = new HashSet<>();
        for (Limit limit : limits) {
            HolderTags holder = holderTags(limit.holder());
            if (!counted.add(holder.key)) {
                continue;
            }
            if (tokens > 0) {
                chargedTokens.computeIfAbsent(holder.key, k -> Counter.builder("tollgate.charged.tokens")
                        .description("tokens charged to holders of the kind").baseUnit("tokens")
                        .tags(holder.tags).register(registry)).increment(tokens);
            }
            if (dollars > 0) {
                chargedCost.computeIfAbsent(holder.key, k -> Counter.builder("tollgate.charged.cost")
                        .description("money charged to holders of the kind").baseUnit("dollars")
                        .tags(holder.tags).register(registry)).increment(dollars);
            }
        }
    }

    @Override
    public void chargeFailed(List<Limit> limits, Throwable failure) {
        chargesFailed.increment();
    }

    /** The holder tags of a meter, and the part of a cache key they make; {@code holder} null for none. */
    private HolderTags holderTags(Holder holder) {
        String kind = holder == null ? NONE : lower(holder.kind());
        if (holderIds.isEmpty()) {
            return new HolderTags(kind, Tags.of("holder_kind", kind));
        }
        String id = holder != null && holderIds.contains(holder.kind()) ? holder.id() : NONE;
        // an id may hold any character: its length keeps two pairs from making one key
        return new HolderTags(kind + '|' + id.length() + ':' + id, Tags.of("holder_kind", kind, "holder_id", id));
    }

    private record HolderTags(String key, Tags tags) {
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void storeCall(String operation, long nanos, boolean succeeded) {
        String key = operation + '|' + succeeded;
        latencies.computeIfAbsent(key, k -> Timer.builder("tollgate.store.latency")
                .description("calls to the shared store")
                .tags("operation", operation, "result", succeeded ? "success" : "failure")
                .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void storeStateChanged(StoreState state) {
        circuit.set(state.ordinal());
        transitions.computeIfAbsent(state, s -> Counter.builder("tollgate.store.circuit.transitions")
                .tag("state", s.name().toLowerCase(Locale.ROOT)).register(registry)).increment();
    }

    @Override
    public void usageBuffered(int charges, int bufferedNow) {
        buffered.increment(charges);
        bufferSize.set(bufferedNow);
    }

    @Override
    public void usageReplayed(int charges, int bufferedNow) {
        replayed.increment(charges);
        bufferSize.set(bufferedNow);
    }

    @Override
    public void usageDropped(int charges, int bufferedNow) {
        dropped.increment(charges);
        bufferSize.set(bufferedNow);
    }

    @Override
    public void storeDataLost(int chargesToReplay) {
        dataLosses.increment();
    }

    @Override
    public void sliceTaken(Limit limit, long amount) {
        sliceCounter(slicesTaken, "tollgate.slices.taken", "slice amounts taken from the shared counters", limit)
                .increment(amount);
    }

    @Override
    public void sliceReturned(Limit limit, long amount) {
        sliceCounter(slicesReturned, "tollgate.slices.returned", "unused slice amounts given back", limit)
                .increment(amount);
    }

    @Override
    public void leasedCheck(boolean local) {
        (local ? localChecks : sharedChecks).increment();
    }

    @Override
    public void slicesHeld(long held) {
        slicesHeld.set(held);
    }

    private Counter sliceCounter(Map<String, Counter> counters, String name, String description, Limit limit) {
        String kind = lower(limit.holder().kind());
        String metric = lower(limit.metric());
        return counters.computeIfAbsent(kind + '/' + metric, key -> Counter.builder(name).description(description)
                .tag("holder_kind", kind).tag("metric", metric).register(registry));
    }

    @Override
    public void restoreRun(int snapshots, long nanos, boolean succeeded) {
        (succeeded ? restoresSucceeded : restoresFailed).increment();
        restoredSnapshots.increment(snapshots);
    }

    @Override
    public void flushed(boolean succeeded, Instant lastSuccessfulFlush, int pending) {
        (succeeded ? flushesSucceeded : flushesFailed).increment();
        flushPending.set(pending);
        if (lastSuccessfulFlush != null) {
            lastFlush.accumulateAndGet(lastSuccessfulFlush.toEpochMilli(), Math::max);
        }
    }

    private double flushLagSeconds(AtomicLong last) {
        long at = last.get();
        if (at == Long.MIN_VALUE) {
            return Double.NaN;
        }
        return Math.max(0, registry.config().clock().wallTime() - at) / 1000.0;
    }

    /** Builds a {@link MicrometerListener}. Not thread-safe. */
    public static final class Builder {
        private final MeterRegistry registry;
        private final Set<HolderKind> holderIds = EnumSet.noneOf(HolderKind.class);

        private Builder(MeterRegistry registry) {
            this.registry = registry;
        }

        /**
         * Tags meters with the ids of the holders of these kinds too ({@code holder_id}); none by default. Each id is
         * a series of each such meter: name kinds with few holders, such as {@link HolderKind#CUSTOMER}.
         */
        public Builder holderIds(HolderKind... kinds) {
            for (HolderKind kind : kinds) {
                holderIds.add(Objects.requireNonNull(kind, "holderIds: a kind must not be null"));
            }
            return this;
        }

        public MicrometerListener build() {
            return new MicrometerListener(registry, Set.copyOf(holderIds));
        }
    }
}
