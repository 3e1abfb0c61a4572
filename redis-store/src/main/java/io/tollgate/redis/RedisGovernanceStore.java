package io.tollgate.redis;

import io.lettuce.core.KeyValue;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.tollgate.CounterId;
import io.tollgate.Limit;
import io.tollgate.StoreException;
import io.tollgate.Window;
import io.tollgate.WindowSpec;
import io.tollgate.redis.internal.KeySpace;
import io.tollgate.redis.internal.LimitPlan;
import io.tollgate.redis.internal.Numbers;
import io.tollgate.redis.internal.PlanCache;
import io.tollgate.redis.internal.ReadyGuard;
import io.tollgate.redis.internal.RedisCalls;
import io.tollgate.redis.internal.Script;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.ReserveResult;
import io.tollgate.spi.SnapshotSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The distributed store: every replica of a gateway that uses the same Redis (standalone or Cluster) enforces the
 * same limits, exactly.
 *
 * <pre>{@code
 * RedisClient client = RedisClient.create("redis://localhost:6379");
 * GovernanceStore store = RedisGovernanceStore.builder(client)
 *         .options(RedisStoreOptions.builder().keyPrefix("gateway").build())
 *         .build();
 *
 * RedisClusterClient cluster = RedisClusterClient.create("redis://node-1:6379");
 * cluster.setOptions(ClusterClientOptions.builder()
 *         .topologyRefreshOptions(RedisGovernanceStore.clusterTopologyRefresh()).build());
 * GovernanceStore clustered = RedisGovernanceStore.builder(cluster).build();
 * }</pre>
 *
 * <h2>One round trip per decision (standalone Redis)</h2>
 * {@link #reserve} and {@link #charge} are one {@code EVALSHA} each, for the request's whole list of limits. The
 * script reads Redis {@code TIME}, finds every counter's current window, reads every counter, and only if every one
 * {@linkplain CounterOp#fits fits} adds every amount; a charge adds and releases at every level at once, at most once
 * per idempotency key. Scripts are sent by digest; after a Redis restart or {@code SCRIPT FLUSH} ({@code NOSCRIPT})
 * the store loads the script and runs the call again.
 *
 * <h2>Redis Cluster: one atomic script per slot group</h2>
 * A script may only touch keys of one hash slot, so on Redis Cluster a request's limits are split by hash tag (see
 * {@link RedisPlacement} for which holders share one, and the module's README for the whole design):
 * <ul>
 *   <li><b>reserve</b>: every slot group's script runs at once, each an atomic check-and-reserve on its own node. If
 *       every group admits, the request is admitted; if none does, it is denied and nothing was taken. If some admit
 *       and some deny, what the admitting groups took is released (a compensation script), and the request is tried
 *       once more group by group in a fixed order, which lets a request through when the denial came from another
 *       request's reservation that was being released. No counter ever passes its maximum, since each group checks
 *       and takes atomically: request limits are never exceeded. A concurrent release can only cause a transient
 *       false denial.</li>
 *   <li><b>charge</b>: one script per group, each with its own idempotency key in its own slot. A charge that failed
 *       half-way (a node timed out) is completed by a retry with the same idempotency key: groups that applied report
 *       a duplicate and apply nothing, the others apply. A charge refused for overflow in one group is undone in the
 *       others, so it applies nothing at all.</li>
 *   <li><b>read</b> reads each group atomically, the groups one after the other in effect.</li>
 * </ul>
 *
 * <h2>One clock: Redis {@code TIME}</h2>
 * Windows are computed inside the scripts from Redis time, so replicas whose own clocks disagree still enforce the
 * same windows (on Redis Cluster, each counter on the clock of the node that holds it: keep the nodes' clocks in sync,
 * as for any cluster):
 * <ul>
 *   <li>fixed-length rolling windows: the script gets the anchor and the length and computes the start;</li>
 *   <li>calendar and month-based layouts, whose zone and month rules live in Java: the store sends five candidate
 *       windows around {@link RedisStoreOptions#candidateClock()}'s time and the script takes the one that holds Redis
 *       time. A replica clock off by more than two windows gets a {@link StoreException} that says so;</li>
 *   <li>unbounded windows: start 0, never expire.</li>
 * </ul>
 * The store also sends, as the script's keys, the counter keys of the windows its own clock expects (cached per
 * window), so that when Redis time agrees, nearly always, the script builds no key string; when it does not, the
 * script uses the window of Redis time all the same. Limits that share a window layout share one window argument
 * group, computed once per call. {@link RedisStoreOptions#testTimeSource()} replaces Redis time, for tests only.
 *
 * <h2>Keys</h2>
 * Readable and versioned, such as {@code tollgate:v1:c:{tg}:vk:key-42:requests:1m:1700000040000}: prefix, version,
 * hash tag, holder kind, holder id, metric, window layout id, window start. Ids are percent-encoded outside
 * {@code [A-Za-z0-9._-]}, so {@code : { } %}, spaces and non-ASCII cannot break the layout; the store sees holder ids
 * only, never a virtual key's secret. On standalone Redis every key carries the same hash tag {@code {tg}}; on Redis
 * Cluster one of 1,024 tags {@code {tg0}} .. {@code {tg1023}}, chosen from the holder's placement anchor. A counter
 * key expires {@link RedisStoreOptions#expiredWindowRetention()} after its window ends: there is no reset job.
 *
 * <h2>Changes and restore</h2>
 * The scripts record changed counters in a sorted set per tag ({@code <prefix>:v1:{tg}:changed}) scored by a change
 * sequence number of that tag, so {@link #changesSince} costs in proportion to what changed (plus, on Redis Cluster,
 * one short script call per tag) and reports each change once after a mark, whatever the clocks do. On standalone
 * Redis a mark is the sequence number; on Redis Cluster a mark names the sequence numbers of every tag, kept in Redis
 * for {@link RedisStoreOptions#changeLogRetention()}. A counter already recorded after the last mark handed out is
 * not recorded again (readers report current values), so a busy counter costs one {@code ZMSCORE} per call.
 * A marker key per tag ({@code <prefix>:v1:{tg}:ready}) tells whether Redis still holds that tag's data: when it is
 * missing (a new Redis, {@code FLUSHALL}, a restart without persistence, a node replaced by an empty one) the scripts
 * of that tag change nothing, and the store first restores the current windows of every tag that lost its marker from
 * the {@link RedisStoreOptions#snapshotSource()} (once, whichever callers are waiting), restarts their sequences above
 * every mark handed out before (at 1,000 per millisecond of store time), sets their markers, and only then runs the
 * call again. No decision trusts an emptied Redis; {@link #read} does not wait for a restore.

 * <h2>Bounds</h2>
 * Counters are 64-bit and exact up to 2<sup>63</sup> - 1, like the in-memory store: Lua numbers are doubles (exact
 * only to 2<sup>53</sup>), so the scripts keep counter values as decimal text and compare sums in two exact halves.
 * A charge whose sum would pass 2<sup>63</sup> - 1 fails with an {@link ArithmeticException} that says "overflow",
 * and nothing is applied. Every call completes within {@link RedisStoreOptions#commandTimeout()}, with a
 * {@link StoreException} on timeout or connection failure.
 *
 * <p>Thread-safe. One connection, opened from the user's client (or passed in) and shared by every caller: Lettuce
 * pipelines concurrent commands (a cluster connection keeps one connection per node). The returned stages complete
 * on Lettuce's event-loop threads: a caller must not block in a dependent stage. {@link #close()} closes the
 * connection the store opened, never the user's client.
 */
public final class RedisGovernanceStore implements GovernanceStore {

    private static final Logger LOG = LoggerFactory.getLogger(RedisGovernanceStore.class);
    private static final int RESTORE_BATCH = 500;
    private static final int CHANGES_PAGE = 1_000;
    private static final Long NOT_READY = -1L;
    private static final Long APPLIED = 1L;
    /** Marker, change log, change sequence, last mark: the first keys of every script but read. */
    private static final int SHARED_KEYS = 4;
    /** Window ends at or past this are beyond exact Lua numbers: such windows are kept like unbounded ones. */
    private static final long SCRIPT_TIME_LIMIT = 1L << 53;
    /** Sequence numbers a restore starts from per millisecond of store time, so they exceed any mark before it. */
    private static final long SEQUENCE_PER_MILLI = 1_000;
    /** The idempotency key value of a charge that is never undone (one slot group). */
    private static final String PLAIN_TOKEN = "1";

    private final StatefulConnection<String, String> connection;
    private final boolean ownsConnection;
    private final RedisStoreOptions options;
    private final KeySpace keys;
    private final PlanCache plans;
    private final RedisCalls calls;
    private final ReadyGuard ready;
    private final Clock testTime;
    /** Picks the window whose key is sent: the candidate clock, or the test time source. */
    private final Clock localClock;
    private final String retentionArg;
    private final String idempotencyLifetimeArg;
    /** Makes tokens of this store's charges unique across replicas, with {@link #tokens}. */
    private final String tokenHead = Long.toHexString(ThreadLocalRandom.current().nextLong()) + "-";
    private final AtomicLong tokens = new AtomicLong();

    private RedisGovernanceStore(StatefulConnection<String, String> connection,
                                 RedisClusterAsyncCommands<String, String> commands, boolean cluster,
                                 boolean ownsConnection, RedisStoreOptions options) {
        this.connection = connection;
        this.ownsConnection = ownsConnection;
        this.options = options;
        this.keys = cluster ? KeySpace.cluster(options.keyPrefix(), options.placement())
                : KeySpace.standalone(options.keyPrefix());
        this.plans = new PlanCache(keys);
        this.calls = new RedisCalls(commands, cluster, options.commandTimeout());
        this.ready = new ReadyGuard(this::restoreAfterDataLoss);
        this.testTime = options.testTimeSource();
        this.localClock = testTime != null ? testTime : options.candidateClock();
        this.retentionArg = Long.toString(options.expiredWindowRetention().toMillis());
        this.idempotencyLifetimeArg = Long.toString(options.idempotencyKeyLifetime().toMillis());
    }

    /** A store on standalone Redis that opens one connection from the user's client; never closes the client. */
    public static Builder builder(RedisClient client) {
        Objects.requireNonNull(client, "client");
        return new Builder(() -> client.connect(StringCodec.UTF8), null, false);
    }

    /** A store on a standalone connection the user opened and keeps: closing the store does not close it. */
    public static Builder builder(StatefulRedisConnection<String, String> connection) {
        return new Builder(null, Objects.requireNonNull(connection, "connection"), false);
    }

    /**
     * A store on Redis Cluster that opens one cluster connection from the user's client; never closes the client.
     * The client is used as the user configured it: give it {@link #clusterTopologyRefresh()} (or refresh options of
     * one's own) so that it follows failovers and slot moves without waiting for errors; without any topology
     * refresh the store logs a warning. Give its seed URIs a short timeout too ({@code RedisURI.Builder.withTimeout}):
     * Lettuce's topology refresh waits that long (60 seconds by default) for a node that accepts connections but does
     * not answer, and refreshes nothing else meanwhile.
     */
    public static Builder builder(RedisClusterClient client) {
        Objects.requireNonNull(client, "client");
        return new Builder(() -> {
            warnWithoutTopologyRefresh(client);
            return client.connect(StringCodec.UTF8);
        }, null, true);
    }

    /** A store on a Redis Cluster connection the user opened and keeps: closing the store does not close it. */
    public static Builder builder(StatefulRedisClusterConnection<String, String> connection) {
        return new Builder(null, Objects.requireNonNull(connection, "connection"), true);
    }

    /**
     * Topology refresh suited to the store: the cluster view is refreshed every 30 seconds, and at once (at most every
     * 5 seconds) when a command is redirected ({@code MOVED}, {@code ASK}), a slot is uncovered, an unknown node
     * answers, or a node cannot be reconnected to, so that after a failover the store's commands go to the promoted
     * replica within moments of the promotion. Set it on the client:
     * {@code client.setOptions(ClusterClientOptions.builder().topologyRefreshOptions(clusterTopologyRefresh()).build())}.
     */
    public static ClusterTopologyRefreshOptions clusterTopologyRefresh() {
        return ClusterTopologyRefreshOptions.builder()
                .enablePeriodicRefresh(Duration.ofSeconds(30))
                .enableAllAdaptiveRefreshTriggers()
                .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(5))
                .refreshTriggersReconnectAttempts(3)
                .build();
    }

    /** The options this store was built with. */
    public RedisStoreOptions options() {
        return options;
    }

    /** {@link RedisStoreOptions#commandTimeout()}: every call completes within it. */
    @Override
    public Optional<Duration> callTimeout() {
        return Optional.of(options.commandTimeout());
    }

    // ------------------------------------------------------------------------------------------------- reserve

    @Override
    public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
        Objects.requireNonNull(ops, "ops");
        Part[] parts = split(plansOf(ops));
        CompletableFuture<ReserveResult> result;
        if (parts.length == 1) {
            result = reservePart(parts[0], ops).thenApply(taken -> result(ops.size(), taken.admitted,
                    new Taken[] {taken}));
        } else {
            result = reserveGroups(parts, ops);
        }
        return calls.bounded(result, "reserve");
    }

    /** Every slot group at once; on a mixed answer, a release and one more try group by group. */
    private CompletableFuture<ReserveResult> reserveGroups(Part[] parts, List<CounterOp> ops) {
        List<CompletableFuture<Taken>> all = new ArrayList<>(parts.length);
        for (Part part : parts) {
            all.add(reservePart(part, ops));
        }
        return settled(all).thenCompose(outcomes -> {
            Taken[] taken = new Taken[parts.length];
            Throwable failure = null;
            int admitted = 0;
            for (int p = 0; p < parts.length; p++) {
                Object outcome = outcomes.get(p);
                if (outcome instanceof Taken t) {
                    taken[p] = t;
                    admitted += t.admitted ? 1 : 0;
                } else if (failure == null) {
                    failure = (Throwable) outcome;
                }
            }
            if (failure != null) {
                Throwable cause = failure;
                return releaseAll(taken, ops).thenCompose(ignored -> CompletableFuture.failedFuture(cause));
            }
            if (admitted == parts.length) {
                return CompletableFuture.completedFuture(result(ops.size(), true, taken));
            }
            if (admitted == 0) {
                return CompletableFuture.completedFuture(result(ops.size(), false, taken));
            }
            return releaseAll(taken, ops).thenCompose(ignored -> reserveInOrder(parts, ops, taken));
        });
    }

    /**
     * Group by group in the parts' order (ascending tag, the same for every request): a request that holds the
     * first groups is only refused by a later group's counter, never by a request that has not passed the first. The
     * states of groups not reached again come from the first try.
     */
    private CompletableFuture<ReserveResult> reserveInOrder(Part[] parts, List<CounterOp> ops, Taken[] firstTry) {
        Taken[] taken = Arrays.copyOf(firstTry, firstTry.length);
        Taken[] held = new Taken[parts.length];
        return reserveFrom(0, parts, ops, taken, held);
    }

    private CompletableFuture<ReserveResult> reserveFrom(int p, Part[] parts, List<CounterOp> ops, Taken[] taken,
                                                         Taken[] held) {
        if (p == parts.length) {
            return CompletableFuture.completedFuture(result(ops.size(), true, taken));
        }
        return reservePart(parts[p], ops).handle((t, failure) -> {
            if (failure != null) {
                return releaseAll(held, ops).<ReserveResult>thenCompose(ignored ->
                        CompletableFuture.failedFuture(failure));
            }
            taken[p] = t;
            if (t.admitted) {
                held[p] = t;
                return reserveFrom(p + 1, parts, ops, taken, held);
            }
            return releaseAll(held, ops).thenApply(ignored -> result(ops.size(), false, taken));
        }).thenCompose(Function.identity());
    }

    /** One slot group's check-and-reserve, run again once after a restore if its tag lost its data. */
    private CompletableFuture<Taken> reservePart(Part part, List<CounterOp> ops) {
        int n = part.size;
        String[] keyArgs = part.keys(SHARED_KEYS);
        part.sharedKeys(keyArgs);
        String[] args = new String[2 + part.groupArgs + 3 * n];
        args[0] = timeArg();
        args[1] = retentionArg;
        int p = part.putGroups(args, 2);
        for (int j = 0; j < n; j++) {
            args[p++] = Numbers.text(ops.get(part.index[j]).amount());
            args[p++] = part.plan[j].maxArg();
            args[p++] = Numbers.text(part.group[j] + 1);
        }
        return guarded("reserve", () -> calls.eval(Script.RESERVE, keyArgs, args), reply -> {
            long[] used = new long[n];
            long[] starts = new long[n];
            for (int j = 0; j < n; j++) {
                used[j] = Long.parseLong((String) reply.get(3 + j));
                starts[j] = (Long) reply.get(3 + n + part.group[j]);
            }
            String marker = (String) reply.get(3 + n + part.groups);
            return new Taken(part, (Long) reply.get(2) == 1L, (Long) reply.get(1), used, starts, marker, null);
        });
    }

    /** Gives back what admitted groups took; waits for every release, and never fails (a lost release errs high). */
    private CompletableFuture<Void> releaseAll(Taken[] taken, List<CounterOp> ops) {
        List<CompletableFuture<?>> releases = new ArrayList<>();
        for (Taken t : taken) {
            if (t != null && t.admitted) {
                releases.add(release(t, ops, false, null));
            }
        }
        return settled(releases).thenApply(ignored -> null);
    }

    /**
     * Takes back what {@code t} took: the reserved amounts, or for a charge ({@code idempotencyKey} set) the added
     * amounts, giving back what it released and deleting its idempotency key. Changes nothing if the tag lost its
     * data since (its marker changed): what the call took is gone already.
     */
    private CompletableFuture<List<Object>> release(Taken t, List<CounterOp> ops, boolean charge,
                                                    String idempotencyKey) {
        Part part = t.part;
        List<String> keyArgs = new ArrayList<>(SHARED_KEYS + 1 + 2 * part.size);
        List<String> args = new ArrayList<>(2 + 4 * part.size);
        keyArgs.add(keys.ready(part.tag));
        keyArgs.add(keys.changed(part.tag));
        keyArgs.add(keys.sequence(part.tag));
        keyArgs.add(keys.mark(part.tag));
        keyArgs.add(charge ? keys.idempotency(part.tag, idempotencyKey) : keys.ready(part.tag));
        args.add(t.marker);
        args.add(charge ? t.token : "");
        for (int j = 0; j < part.size; j++) {
            CounterOp op = ops.get(part.index[j]);
            LimitPlan plan = part.plan[j];
            if (op.amount() > 0) {
                keyArgs.add(plan.key(t.starts[j]));
                args.add("d");
                args.add(Numbers.text(op.amount()));
            }
            if (charge && t.released[j] > 0) {
                keyArgs.add(plan.key(op.releaseWindowStart()));
                args.add("i");
                args.add(Numbers.text(t.released[j]));
            }
        }
        if (!charge && keyArgs.size() == SHARED_KEYS + 1) {
            // a reservation of zero amounts took nothing
            return CompletableFuture.completedFuture(List.of());
        }
        return calls.bounded(call(() -> calls.eval(Script.RELEASE, keyArgs.toArray(new String[0]),
                args.toArray(new String[0]))), charge ? "charge" : "reserve");
    }

    private ReserveResult result(int n, boolean admitted, Taken[] taken) {
        CounterState[] states = new CounterState[n];
        long now = Long.MIN_VALUE;
        for (Taken t : taken) {
            now = Math.max(now, t.now);
            Part part = t.part;
            for (int j = 0; j < part.size; j++) {
                LimitPlan plan = part.plan[j];
                states[part.index[j]] = new CounterState(plan.limit(), t.used[j], plan.windowStartingAt(t.starts[j]));
            }
        }
        return new ReserveResult(admitted, Arrays.asList(states), now);
    }

    // -------------------------------------------------------------------------------------------------- charge

    @Override
    public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        Objects.requireNonNull(ops, "ops");
        Part[] parts = split(plansOf(ops));
        CompletableFuture<ChargeResult> result;
        if (parts.length == 1) {
            result = chargePart(parts[0], ops, idempotencyKey, PLAIN_TOKEN)
                    .thenApply(t -> t == null ? ChargeResult.DUPLICATE : ChargeResult.APPLIED);
        } else {
            result = chargeGroups(parts, ops, idempotencyKey);
        }
        return calls.bounded(result, "charge");
    }

    /**
     * Every slot group at once, each once per idempotency key. A failure leaves the groups that applied as they are
     * (a retry completes the rest), except an overflow: a deterministic refusal, undone in the other groups so that
     * the charge applies nothing.
     */
    private CompletableFuture<ChargeResult> chargeGroups(Part[] parts, List<CounterOp> ops, String idempotencyKey) {
        String token = tokenHead + Long.toHexString(tokens.incrementAndGet());
        List<CompletableFuture<Taken>> all = new ArrayList<>(parts.length);
        for (Part part : parts) {
            all.add(chargePart(part, ops, idempotencyKey, token));
        }
        return settled(all).thenCompose(outcomes -> {
            Throwable overflow = null;
            Throwable failure = null;
            boolean applied = false;
            List<CompletableFuture<?>> undo = new ArrayList<>();
            for (Object outcome : outcomes) {
                if (outcome instanceof Throwable t) {
                    if (overflow == null && RedisCalls.isOverflow(t)) {
                        overflow = t;
                    } else if (failure == null) {
                        failure = t;
                    }
                } else if (outcome != null) {
                    applied = true;
                }
            }
            if (overflow != null) {
                for (Object outcome : outcomes) {
                    if (outcome instanceof Taken t) {
                        undo.add(release(t, ops, true, idempotencyKey));
                    }
                }
                Throwable cause = overflow;
                return settled(undo).thenCompose(ignored -> CompletableFuture.failedFuture(cause));
            }
            if (failure != null) {
                return CompletableFuture.failedFuture(failure);
            }
            return CompletableFuture.completedFuture(applied ? ChargeResult.APPLIED : ChargeResult.DUPLICATE);
        });
    }

    /** One slot group's charge: what it applied, or null for a duplicate. */
    private CompletableFuture<Taken> chargePart(Part part, List<CounterOp> ops, String idempotencyKey, String token) {
        int n = part.size;
        String[] keyArgs = part.keys(SHARED_KEYS + 1);
        part.sharedKeys(keyArgs);
        keyArgs[SHARED_KEYS] = keys.idempotency(part.tag, idempotencyKey);
        String[] args = new String[4 + part.groupArgs + 4 * n];
        args[0] = timeArg();
        args[1] = retentionArg;
        args[2] = idempotencyLifetimeArg;
        args[3] = token;
        int p = part.putGroups(args, 4);
        for (int j = 0; j < n; j++) {
            CounterOp op = ops.get(part.index[j]);
            args[p++] = Numbers.text(op.amount());
            args[p++] = Numbers.text(op.release());
            args[p++] = op.release() == 0 ? "" : Long.toString(op.releaseWindowStart());
            args[p++] = Numbers.text(part.group[j] + 1);
        }
        return guarded("charge", () -> calls.eval(Script.CHARGE, keyArgs, args), reply -> {
            if (!APPLIED.equals(reply.get(0))) {
                return null;
            }
            if (token.equals(PLAIN_TOKEN)) {
                // never undone: the reply's details are not needed
                return new Taken(part, true, 0, null, null, null, token);
            }
            long[] starts = new long[n];
            long[] released = new long[n];
            for (int j = 0; j < n; j++) {
                starts[j] = (Long) reply.get(2 + part.group[j]);
                released[j] = Long.parseLong((String) reply.get(2 + part.groups + j));
            }
            Taken taken = new Taken(part, true, 0, null, starts, (String) reply.get(1), token);
            taken.released = released;
            return taken;
        });
    }

    // ---------------------------------------------------------------------------------------------------- read

    @Override
    public CompletionStage<List<CounterState>> read(List<Limit> limits) {
        Objects.requireNonNull(limits, "limits");
        int n = limits.size();
        Object version = plans.version();
        LimitPlan[] plan = new LimitPlan[n];
        for (int i = 0; i < n; i++) {
            plan[i] = plans.plan(Objects.requireNonNull(limits.get(i), "limits[" + i + "]"), version);
        }
        if (n == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        Part[] parts = split(plan);
        List<CompletableFuture<Void>> all = new ArrayList<>(parts.length);
        CounterState[] states = new CounterState[n];
        for (Part part : parts) {
            all.add(readPart(part, states));
        }
        CompletableFuture<List<CounterState>> result = CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
                .thenApply(ignored -> List.of(states));
        return calls.bounded(result, "read");
    }

    private CompletableFuture<Void> readPart(Part part, CounterState[] states) {
        int n = part.size;
        String[] keyArgs = part.keys(0);
        String[] args = new String[1 + part.groupArgs + n];
        args[0] = timeArg();
        int p = part.putGroups(args, 1);
        for (int j = 0; j < n; j++) {
            args[p++] = Numbers.text(part.group[j] + 1);
        }
        return call(() -> calls.eval(Script.READ, keyArgs, args)).thenAccept(reply -> {
            for (int j = 0; j < n; j++) {
                long used = Long.parseLong((String) reply.get(1 + j));
                long start = (Long) reply.get(1 + n + part.group[j]);
                LimitPlan plan = part.plan[j];
                states[part.index[j]] = new CounterState(plan.limit(), used, plan.windowStartingAt(start));
            }
        });
    }

    // ----------------------------------------------------------------------------------------- changes, restore

    /**
     * The counters changed after {@code mark}, from the change logs, with their current values. Marks are change
     * sequence numbers, not times: a change is reported by the first call that starts after it, and once, however
     * the clocks stand. The logs are read in pages; counters whose keys have expired are dropped from them, and so
     * are changes older than {@link RedisStoreOptions#changeLogRetention()}. A mark above a tag's current sequence
     * number (that tag lost its data since the mark was given), or a mark Redis no longer knows, reads the whole
     * log of the tags concerned.
     */
    @Override
    public ChangeBatch changesSince(long mark) {
        String operation = "changesSince";
        int tagCount = keys.tagCount();
        long[] from = new long[tagCount];
        if (keys.clustered() && mark != 0) {
            Map<String, String> marked = calls.await(calls.commands().hgetall(keys.cursor() + ":" + mark), operation);
            for (Map.Entry<String, String> entry : marked.entrySet()) {
                int tag = tagIndex(entry.getKey());
                if (tag >= 0) {
                    from[tag] = Long.parseLong(entry.getValue());
                }
            }
        } else if (!keys.clustered()) {
            from[0] = mark;
        }
        String[] openArgs = {timeArg(), Long.toString(options.changeLogRetention().toMillis())};
        List<CompletableFuture<List<Object>>> opened = new ArrayList<>(tagCount);
        for (int t = 0; t < tagCount; t++) {
            String[] openKeys = {keys.ready(t), keys.changed(t), keys.sequence(t), keys.mark(t), keys.marks(t)};
            opened.add(calls.bounded(call(() -> calls.eval(Script.CHANGES, openKeys, openArgs)), operation));
        }
        long[] sequence = new long[tagCount];
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        Collected collected = new Collected();
        for (int t = 0; t < tagCount; t++) {
            sequence[t] = (Long) calls.await(opened.get(t), operation).get(1);
            if (from[t] > sequence[t]) {
                from[t] = 0;
            }
            if (sequence[t] > from[t]) {
                reads.add(readLog(t, Range.Boundary.excluding((double) from[t]), sequence[t], collected));
            }
        }
        for (CompletableFuture<Void> read : reads) {
            calls.await(read, operation);
        }
        collected.dropGone(operation);
        if (!keys.clustered()) {
            return new ChangeBatch(collected.snapshots, sequence[0]);
        }
        List<String> markArgs = new ArrayList<>();
        markArgs.add(timeArg());
        markArgs.add(Long.toString(options.changeLogRetention().toMillis()));
        for (int t = 0; t < tagCount; t++) {
            if (sequence[t] > 0) {
                markArgs.add(Integer.toString(t));
                markArgs.add(Long.toString(sequence[t]));
            }
        }
        List<Object> next = calls.await(calls.eval(Script.MARK, new String[] {keys.cursor()},
                markArgs.toArray(new String[0])), operation);
        return new ChangeBatch(collected.snapshots, (Long) next.get(0));
    }

    private static int tagIndex(String field) {
        try {
            return Integer.parseInt(field);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Reads one tag's log from {@code lower} up to {@code sequence}, page by page. Members move up while we page (a
     * newer change), so pages go by score, never by offset: the page below its last score, then every member at
     * exactly that score (one script call's counters), then above it.
     */
    private CompletableFuture<Void> readLog(int tag, Range.Boundary<Double> lower, long sequence, Collected out) {
        String operation = "changesSince";
        String log = keys.changed(tag);
        Range.Boundary<Double> upper = Range.Boundary.including((double) sequence);
        return calls.bounded(calls.commands().zrangebyscoreWithScores(log, Range.from(lower, upper),
                io.lettuce.core.Limit.create(0, CHANGES_PAGE)).toCompletableFuture(), operation).thenCompose(page -> {
                    if (page.size() < CHANGES_PAGE) {
                        return collect(tag, members(page, Double.POSITIVE_INFINITY), out);
                    }
                    double last = page.get(page.size() - 1).getScore();
                    return collect(tag, members(page, last), out)
                            .thenCompose(ignored -> calls.bounded(calls.commands()
                                    .zrangebyscore(log, Range.create(last, last)).toCompletableFuture(), operation))
                            .thenCompose(atLast -> collect(tag, atLast, out))
                            .thenCompose(ignored -> readLog(tag, Range.Boundary.excluding(last), sequence, out));
                });
    }

    private CompletableFuture<Void> collect(int tag, List<String> members, Collected out) {
        if (members.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return calls.bounded(calls.commands().mget(members.toArray(new String[0])).toCompletableFuture(),
                "changesSince").thenAccept(values -> out.add(tag, values));
    }

    /** What a read of the change logs found; filled from Lettuce's threads. */
    private final class Collected {
        final List<CounterSnapshot> snapshots = new ArrayList<>();
        final Map<Integer, List<String>> gone = new HashMap<>();
        final Map<String, WindowSpec> specs = new HashMap<>();

        synchronized void add(int tag, List<KeyValue<String, String>> values) {
            for (KeyValue<String, String> entry : values) {
                if (!entry.hasValue()) {
                    gone.computeIfAbsent(tag, t -> new ArrayList<>()).add(entry.getKey());
                    continue;
                }
                CounterSnapshot snapshot = snapshot(entry.getKey(), entry.getValue(), specs);
                if (snapshot != null) {
                    snapshots.add(snapshot);
                }
            }
        }

        /** An expired counter's window is over: no script writes its key again, so its entry can go. */
        void dropGone(String operation) {
            List<CompletableFuture<Long>> removals = new ArrayList<>();
            for (Map.Entry<Integer, List<String>> entry : gone.entrySet()) {
                removals.add(calls.commands().zrem(keys.changed(entry.getKey()), entry.getValue()
                        .toArray(new String[0])).toCompletableFuture());
            }
            for (CompletableFuture<Long> removal : removals) {
                calls.await(removal, operation);
            }
        }
    }

    /**
     * Raises each counter of a window that has not ended by store time to at least its snapshot value, one script
     * call per 500 snapshots of one tag. Never lowers a counter; restored windows expire like any other.
     */
    @Override
    public void restore(Collection<CounterSnapshot> snapshots) {
        restoreCounting(snapshots);
    }

    @Override
    public void close() {
        ready.close();
        if (ownsConnection) {
            connection.close();
        }
    }

    @Override
    public String toString() {
        return "RedisGovernanceStore[" + options.keyPrefix() + (keys.clustered() ? ", cluster]" : "]");
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private LimitPlan[] plansOf(List<CounterOp> ops) {
        int n = ops.size();
        Object version = plans.version();
        LimitPlan[] plan = new LimitPlan[n];
        for (int i = 0; i < n; i++) {
            CounterOp op = Objects.requireNonNull(ops.get(i), "ops[" + i + "]");
            Limit limit = Objects.requireNonNull(op.limit(), "CounterOp.limit");
            plan[i] = plans.plan(limit, version);
            String base = plan[i].keyBase();
            for (int j = 0; j < i; j++) {
                if (plan[j].keyBase().equals(base)) {
                    throw new IllegalArgumentException("ops name the counter " + limit.counterId() + " twice");
                }
            }
        }
        return plan;
    }

    /**
     * The slot groups of a call, in ascending tag order; one group (of tag 0) for an empty list, so that every call
     * reaches Redis and reports its time.
     */
    private Part[] split(LimitPlan[] plan) {
        long localMillis = localClock.millis();
        int n = plan.length;
        if (n == 0) {
            return new Part[] {new Part(0, 0)};
        }
        int firstTag = plan[0].tag();
        boolean single = true;
        for (int i = 1; i < n && single; i++) {
            single = plan[i].tag() == firstTag;
        }
        if (single) {
            Part part = new Part(firstTag, n);
            for (int i = 0; i < n; i++) {
                part.add(i, plan[i], localMillis);
            }
            return new Part[] {part};
        }
        TreeMap<Integer, List<Integer>> byTag = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            byTag.computeIfAbsent(plan[i].tag(), t -> new ArrayList<>()).add(i);
        }
        Part[] parts = new Part[byTag.size()];
        int p = 0;
        for (Map.Entry<Integer, List<Integer>> entry : byTag.entrySet()) {
            Part part = new Part(entry.getKey(), entry.getValue().size());
            for (int i : entry.getValue()) {
                part.add(i, plan[i], localMillis);
            }
            parts[p++] = part;
        }
        return parts;
    }

    private String timeArg() {
        return testTime == null ? "" : Long.toString(testTime.millis());
    }

    /** Runs a call that checks its tag's data-loss marker; restores and runs it again once if the marker is missing. */
    private <T> CompletableFuture<T> guarded(String operation, Supplier<CompletableFuture<List<Object>>> script,
                                             Function<List<Object>, T> parse) {
        return call(script).thenCompose(reply -> {
            if (!NOT_READY.equals(reply.get(0))) {
                return CompletableFuture.completedFuture(parse.apply(reply));
            }
            return ready.ensureReady().thenCompose(restored -> call(script)).thenApply(again -> {
                if (NOT_READY.equals(again.get(0))) {
                    throw new StoreException(RedisCalls.STORE + ": " + operation
                            + ": Redis lost its data again while it was being restored");
                }
                return parse.apply(again);
            });
        });
    }

    private static CompletableFuture<List<Object>> call(Supplier<CompletableFuture<List<Object>>> script) {
        try {
            return script.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

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

    /** Store time now, in epoch milliseconds: Redis {@code TIME} (of any node), or the test time source. Blocks. */
    private long storeTime(String operation) {
        if (testTime != null) {
            return testTime.millis();
        }
        List<String> time = calls.await(calls.commands().time(), operation);
        return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
    }

    private static List<String> members(List<ScoredValue<String>> page, double below) {
        List<String> members = new ArrayList<>(page.size());
        for (ScoredValue<String> entry : page) {
            if (entry.getScore() < below) {
                members.add(entry.getValue());
            }
        }
        return members;
    }

    /** A change log entry read back, or null for text that is not one of this store's counters. */
    private CounterSnapshot snapshot(String key, String value, Map<String, WindowSpec> specs) {
        KeySpace.ParsedKey parsed = keys.parse(key);
        if (parsed == null) {
            return null;
        }
        try {
            CounterId id = parsed.counter();
            WindowSpec spec = specs.computeIfAbsent(id.windowId(), WindowSpec::parseId);
            Window window = spec.windowAt(parsed.windowStart());
            long count = Long.parseLong(value);
            if (window.startMillis() != parsed.windowStart() || count < 0) {
                return null;
            }
            return new CounterSnapshot(id, window, count);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private int restoreCounting(Collection<CounterSnapshot> snapshots) {
        Objects.requireNonNull(snapshots, "snapshots");
        Map<Integer, List<CounterSnapshot>> byTag = new TreeMap<>();
        int count = 0;
        for (CounterSnapshot snapshot : snapshots) {
            Objects.requireNonNull(snapshot, "snapshots[" + count + "]");
            count++;
            byTag.computeIfAbsent(keys.tagOf(snapshot.counter().holder()), t -> new ArrayList<>()).add(snapshot);
        }
        List<CompletableFuture<List<Object>>> batches = new ArrayList<>();
        for (Map.Entry<Integer, List<CounterSnapshot>> entry : byTag.entrySet()) {
            int tag = entry.getKey();
            List<CounterSnapshot> all = entry.getValue();
            for (int from = 0; from < all.size(); from += RESTORE_BATCH) {
                batches.add(restoreBatch(tag, all.subList(from, Math.min(all.size(), from + RESTORE_BATCH))));
            }
        }
        int raised = 0;
        for (CompletableFuture<List<Object>> batch : batches) {
            raised += ((Long) calls.await(batch, "restore").get(1)).intValue();
        }
        return raised;
    }

    private CompletableFuture<List<Object>> restoreBatch(int tag, List<CounterSnapshot> batch) {
        String[] keyArgs = new String[batch.size() + SHARED_KEYS];
        String[] args = new String[2 + 2 * batch.size()];
        keyArgs[0] = keys.ready(tag);
        keyArgs[1] = keys.changed(tag);
        keyArgs[2] = keys.sequence(tag);
        keyArgs[3] = keys.mark(tag);
        args[0] = timeArg();
        args[1] = retentionArg;
        for (int i = 0; i < batch.size(); i++) {
            CounterSnapshot snapshot = batch.get(i);
            Window window = snapshot.window();
            keyArgs[i + SHARED_KEYS] = keys.counterKey(snapshot.counter(), window.startMillis());
            args[2 + 2 * i] = Long.toString(snapshot.value());
            args[3 + 2 * i] = window.isUnbounded() || window.endMillis() >= SCRIPT_TIME_LIMIT
                    ? "" : Long.toString(window.endMillis());
        }
        return call(() -> calls.eval(Script.RESTORE, keyArgs, args));
    }

    /**
     * Runs on the ready guard's thread, never on an event loop: it may block on the snapshot source. Restores every
     * tag whose marker is missing (on Redis Cluster: the tags of the node that lost its data), reading the snapshot
     * source once.
     */
    private void restoreAfterDataLoss() {
        String operation = "restore";
        RedisClusterAsyncCommands<String, String> redis = calls.commands();
        int tagCount = keys.tagCount();
        List<CompletableFuture<Long>> present = new ArrayList<>(tagCount);
        for (int t = 0; t < tagCount; t++) {
            present.add(redis.exists(keys.ready(t)).toCompletableFuture());
        }
        List<Integer> lost = new ArrayList<>();
        for (int t = 0; t < tagCount; t++) {
            if (calls.await(present.get(t), operation) == 0) {
                lost.add(t);
            }
        }
        if (lost.isEmpty()) {
            // a restore that finished in the meantime (this replica's or another's) already covered this loss
            return;
        }
        long now = storeTime(operation);
        // a new sequence starts above every mark handed out before the loss, so a flusher's next read misses nothing
        String base = Long.toString(Math.min(Math.max(now, 0) * SEQUENCE_PER_MILLI, SCRIPT_TIME_LIMIT / 2));
        List<CompletableFuture<String>> writes = new ArrayList<>(lost.size());
        for (int t : lost) {
            writes.add(redis.set(keys.sequence(t), base, SetArgs.Builder.nx()).toCompletableFuture());
        }
        writes.forEach(write -> calls.await(write, operation));
        SnapshotSource source = options.snapshotSource();
        int offered = 0;
        int raised = 0;
        if (source != null) {
            List<CounterSnapshot> snapshots = source.currentSnapshots(Instant.ofEpochMilli(now));
            List<CounterSnapshot> mine = new ArrayList<>();
            boolean[] isLost = new boolean[tagCount];
            lost.forEach(t -> isLost[t] = true);
            if (snapshots != null) {
                for (CounterSnapshot snapshot : snapshots) {
                    if (snapshot != null && isLost[keys.tagOf(snapshot.counter().holder())]) {
                        mine.add(snapshot);
                    }
                }
            }
            offered = mine.size();
            raised = restoreCounting(mine);
        }
        writes.clear();
        String marker = Long.toString(now);
        for (int t : lost) {
            writes.add(redis.set(keys.ready(t), marker).toCompletableFuture());
        }
        writes.forEach(write -> calls.await(write, operation));
        String what = keys.clustered() ? lost.size() + " of " + tagCount + " hash tags" : "Redis";
        if (source == null) {
            LOG.info("Redis store '{}': no data-loss marker in {} (new or emptied); no snapshot source is configured, "
                    + "so counters go on from what Redis holds", options.keyPrefix(), what);
        } else {
            LOG.info("Redis store '{}': no data-loss marker in {} (new or emptied); restored {} counters from {} "
                    + "snapshots before trusting it", options.keyPrefix(), what, raised, offered);
        }
    }

    private static void warnWithoutTopologyRefresh(RedisClusterClient client) {
        if (client.getOptions() instanceof ClusterClientOptions clusterOptions) {
            ClusterTopologyRefreshOptions refresh = clusterOptions.getTopologyRefreshOptions();
            if (!refresh.isPeriodicRefreshEnabled() && refresh.getAdaptiveRefreshTriggers().isEmpty()) {
                LOG.warn("Redis store on a cluster client without topology refresh: after a failover, calls for the "
                        + "failed node's slots fail until the client learns the new topology; set "
                        + "ClusterClientOptions.topologyRefreshOptions(RedisGovernanceStore.clusterTopologyRefresh())");
            }
        }
    }

    /**
     * What one slot group's script reported: a reservation's states, or an applied charge's windows and releases,
     * with the tag's marker, so that a release can tell whether the data it would give back still exists.
     */
    private static final class Taken {
        final Part part;
        final boolean admitted;
        final long now;
        final long[] used;
        /** Window start of each op of the part. */
        final long[] starts;
        final String marker;
        final String token;
        long[] released;

        Taken(Part part, boolean admitted, long now, long[] used, long[] starts, String marker, String token) {
            this.part = part;
            this.admitted = admitted;
            this.now = now;
            this.used = used;
            this.starts = starts;
            this.marker = marker;
            this.token = token;
        }
    }

    /**
     * The ops of one call that share a hash tag (all of them on standalone Redis), with the window each is expected
     * in, grouped by window: ops with the same layout and the same expected window share one window group, which the
     * script computes once.
     */
    private final class Part {
        final int tag;
        /** Position of each op in the caller's list. */
        final int[] index;
        final LimitPlan[] plan;
        final LimitPlan.Expected[] expected;
        /** Window group of each op, from 0. */
        final int[] group;
        /** First op of each window group. */
        final int[] leader;
        int size;
        int groups;
        int groupArgs = 1;

        Part(int tag, int capacity) {
            this.tag = tag;
            index = new int[capacity];
            plan = new LimitPlan[capacity];
            expected = new LimitPlan.Expected[capacity];
            group = new int[capacity];
            leader = new int[capacity];
        }

        void add(int i, LimitPlan limitPlan, long localMillis) {
            int j = size++;
            index[j] = i;
            plan[j] = limitPlan;
            LimitPlan.Expected mine = limitPlan.expected(localMillis);
            expected[j] = mine;
            for (int g = 0; g < groups; g++) {
                LimitPlan.Expected other = expected[leader[g]];
                if (other == mine || (other.window().equals(mine.window())
                        && plan[leader[g]].spec().equals(limitPlan.spec()))) {
                    group[j] = g;
                    return;
                }
            }
            group[j] = groups;
            leader[groups++] = j;
            groupArgs += mine.args().length;
        }

        /** The keys every script but read takes first, in the order of prelude.lua. */
        void sharedKeys(String[] keyArgs) {
            keyArgs[0] = keys.ready(tag);
            keyArgs[1] = keys.changed(tag);
            keyArgs[2] = keys.sequence(tag);
            keyArgs[3] = keys.mark(tag);
        }

        /** The key arguments: {@code first} slots for the caller, then each op's expected key. */
        String[] keys(int first) {
            String[] keyArgs = new String[first + size];
            for (int j = 0; j < size; j++) {
                keyArgs[first + j] = expected[j].key();
            }
            return keyArgs;
        }

        /** Writes the window group count and each group's window arguments from {@code p}; returns the next index. */
        int putGroups(String[] args, int p) {
            args[p++] = Numbers.text(groups);
            for (int g = 0; g < groups; g++) {
                String[] window = expected[leader[g]].args();
                System.arraycopy(window, 0, args, p, window.length);
                p += window.length;
            }
            return p;
        }
    }

    /** Builds a {@link RedisGovernanceStore}. Not thread-safe. */
    public static final class Builder {
        private final Supplier<StatefulConnection<String, String>> connect;
        private final StatefulConnection<String, String> connection;
        private final boolean cluster;
        private RedisStoreOptions options = RedisStoreOptions.defaults();

        private Builder(Supplier<StatefulConnection<String, String>> connect,
                        StatefulConnection<String, String> connection, boolean cluster) {
            this.connect = connect;
            this.connection = connection;
            this.cluster = cluster;
        }

        /** The store's options; {@link RedisStoreOptions#defaults()} unless set. */
        public Builder options(RedisStoreOptions options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Opens the store's connection (if built from a client).
         *
         * @throws StoreException if Redis cannot be reached
         */
        public RedisGovernanceStore build() {
            if (connection != null) {
                return new RedisGovernanceStore(connection, commandsOf(connection), cluster, false, options);
            }
            StatefulConnection<String, String> opened;
            try {
                opened = connect.get();
            } catch (RedisException e) {
                throw StoreException.unavailable(RedisCalls.STORE, "connect", e);
            }
            // commands abandoned by a caller's timeout should not linger in Lettuce either
            opened.setTimeout(options.commandTimeout());
            return new RedisGovernanceStore(opened, commandsOf(opened), cluster, true, options);
        }

        private static RedisClusterAsyncCommands<String, String> commandsOf(StatefulConnection<String, String> c) {
            if (c instanceof StatefulRedisClusterConnection<String, String> clustered) {
                return clustered.async();
            }
            return ((StatefulRedisConnection<String, String>) c).async();
        }
    }
}
