package io.tollgate.redis;

import io.lettuce.core.KeyValue;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The distributed store: every replica of a gateway that uses the same Redis enforces the same limits, exactly.
 *
 * <pre>{@code
 * RedisClient client = RedisClient.create("redis://localhost:6379");
 * GovernanceStore store = RedisGovernanceStore.builder(client)
 *         .options(RedisStoreOptions.builder().keyPrefix("gateway").build())
 *         .build();
 * }</pre>
 *
 * <h2>One round trip per decision</h2>
 * {@link #reserve} and {@link #charge} are one {@code EVALSHA} each, for the request's whole list of limits. The
 * script reads Redis {@code TIME}, finds every counter's current window, reads every counter, and only if every one
 * {@linkplain CounterOp#fits fits} adds every amount; a charge adds and releases at every level at once, at most once
 * per idempotency key. Scripts are sent by digest; after a Redis restart or {@code SCRIPT FLUSH} ({@code NOSCRIPT})
 * the store loads the script and runs the call again.
 *
 * <h2>One clock: Redis {@code TIME}</h2>
 * Windows are computed inside the scripts from Redis time, so replicas whose own clocks disagree still enforce the
 * same windows:
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
 * only, never a virtual key's secret. On standalone Redis every key carries the same hash tag {@code {tg}}. A counter
 * key expires {@link RedisStoreOptions#expiredWindowRetention()} after its window ends: there is no reset job.
 *
 * <h2>Changes and restore</h2>
 * The scripts record changed counters in a sorted set ({@code <prefix>:v1:{tg}:changed}) scored by a change
 * sequence number, so {@link #changesSince} costs in proportion to what changed and reports each change once after a
 * mark, whatever the clocks do. Marks are sequence numbers: a counter already recorded after the last mark handed
 * out is not recorded again (readers report current values), so a busy counter costs one {@code ZMSCORE} per call.
 * A marker key ({@code <prefix>:v1:{tg}:ready}) tells whether Redis still holds its data: when it is missing (a new
 * Redis, {@code FLUSHALL}, a restart without persistence) the scripts change nothing, and the store first restores
 * current windows from the {@link RedisStoreOptions#snapshotSource()} (once, whichever callers are waiting), restarts
 * the sequence above every mark handed out before (at 1,000 per millisecond of store time), sets the marker, and only
 * then runs the call again. No decision trusts an emptied Redis; {@link #read} does not wait for a restore.

 * <h2>Bounds</h2>
 * Counters are 64-bit and exact up to 2<sup>63</sup> - 1, like the in-memory store: Lua numbers are doubles (exact
 * only to 2<sup>53</sup>), so the scripts keep counter values as decimal text and compare sums in two exact halves.
 * A charge whose sum would pass 2<sup>63</sup> - 1 fails with an {@link ArithmeticException} that says "overflow",
 * and nothing is applied. Every call completes within {@link RedisStoreOptions#commandTimeout()}, with a
 * {@link StoreException} on timeout or connection failure.
 *
 * <p>Thread-safe. One connection, opened from the user's client (or passed in) and shared by every caller: Lettuce
 * pipelines concurrent commands. The returned stages complete on Lettuce's event-loop threads: a caller must not
 * block in a dependent stage. {@link #close()} closes the connection the store opened, never the user's client.
 */
public final class RedisGovernanceStore implements GovernanceStore {

    private static final Logger LOG = LoggerFactory.getLogger(RedisGovernanceStore.class);
    private static final int RESTORE_BATCH = 500;
    private static final int CHANGES_PAGE = 1_000;
    private static final Long NOT_READY = -1L;
    /** Marker, change log, change sequence, last mark: the first keys of every script. */
    private static final int SHARED_KEYS = 4;
    /** Window ends at or past this are beyond exact Lua numbers: such windows are kept like unbounded ones. */
    private static final long SCRIPT_TIME_LIMIT = 1L << 53;
    /** Sequence numbers a restore starts from per millisecond of store time, so they exceed any mark before it. */
    private static final long SEQUENCE_PER_MILLI = 1_000;

    private final StatefulRedisConnection<String, String> connection;
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

    private RedisGovernanceStore(StatefulRedisConnection<String, String> connection, boolean ownsConnection,
                                 RedisStoreOptions options) {
        this.connection = connection;
        this.ownsConnection = ownsConnection;
        this.options = options;
        this.keys = new KeySpace(options.keyPrefix());
        this.plans = new PlanCache(keys);
        this.calls = new RedisCalls(connection.async(), options.commandTimeout());
        this.ready = new ReadyGuard(this::restoreAfterDataLoss);
        this.testTime = options.testTimeSource();
        this.localClock = testTime != null ? testTime : options.candidateClock();
        this.retentionArg = Long.toString(options.expiredWindowRetention().toMillis());
        this.idempotencyLifetimeArg = Long.toString(options.idempotencyKeyLifetime().toMillis());
    }

    /** A store that opens one connection from the user's client; closing the store never closes the client. */
    public static Builder builder(RedisClient client) {
        return new Builder(Objects.requireNonNull(client, "client"), null);
    }

    /** A store on a connection the user opened and keeps: closing the store does not close it. */
    public static Builder builder(StatefulRedisConnection<String, String> connection) {
        return new Builder(null, Objects.requireNonNull(connection, "connection"));
    }

    /** The options this store was built with. */
    public RedisStoreOptions options() {
        return options;
    }

    @Override
    public CompletionStage<ReserveResult> reserve(List<CounterOp> ops) {
        Objects.requireNonNull(ops, "ops");
        int n = ops.size();
        Request request = new Request(n);
        for (int i = 0; i < n; i++) {
            request.add(i, planOf(ops.get(i).limit(), request.plan, i));
        }
        String[] keyArgs = request.keys(SHARED_KEYS);
        sharedKeys(keyArgs);
        String[] args = new String[2 + request.groupArgs + 3 * n];
        args[0] = timeArg();
        args[1] = retentionArg;
        int p = request.putGroups(args, 2);
        for (int i = 0; i < n; i++) {
            args[p++] = Numbers.text(ops.get(i).amount());
            args[p++] = request.plan[i].maxArg();
            args[p++] = Numbers.text(request.group[i] + 1);
        }
        return guarded("reserve", () -> calls.eval(Script.RESERVE, keyArgs, args), reply -> {
            List<CounterState> states = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long used = Long.parseLong((String) reply.get(3 + i));
                long start = (Long) reply.get(3 + n + request.group[i]);
                states.add(new CounterState(request.plan[i].limit(), used, request.plan[i].windowStartingAt(start)));
            }
            return new ReserveResult((Long) reply.get(2) == 1L, states, (Long) reply.get(1));
        });
    }

    @Override
    public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> ops) {
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        Objects.requireNonNull(ops, "ops");
        int n = ops.size();
        Request request = new Request(n);
        for (int i = 0; i < n; i++) {
            request.add(i, planOf(ops.get(i).limit(), request.plan, i));
        }
        String[] keyArgs = request.keys(SHARED_KEYS + 1);
        sharedKeys(keyArgs);
        keyArgs[SHARED_KEYS] = keys.idempotency(idempotencyKey);
        String[] args = new String[3 + request.groupArgs + 4 * n];
        args[0] = timeArg();
        args[1] = retentionArg;
        args[2] = idempotencyLifetimeArg;
        int p = request.putGroups(args, 3);
        for (int i = 0; i < n; i++) {
            CounterOp op = ops.get(i);
            args[p++] = Numbers.text(op.amount());
            args[p++] = Numbers.text(op.release());
            args[p++] = op.release() == 0 ? "" : Long.toString(op.releaseWindowStart());
            args[p++] = Numbers.text(request.group[i] + 1);
        }
        return guarded("charge", () -> calls.eval(Script.CHARGE, keyArgs, args),
                reply -> (Long) reply.get(0) == 1L ? ChargeResult.APPLIED : ChargeResult.DUPLICATE);
    }

    @Override
    public CompletionStage<List<CounterState>> read(List<Limit> limits) {
        Objects.requireNonNull(limits, "limits");
        int n = limits.size();
        Request request = new Request(n);
        for (int i = 0; i < n; i++) {
            request.add(i, plans.plan(Objects.requireNonNull(limits.get(i), "limits[" + i + "]")));
        }
        String[] keyArgs = request.keys(0);
        String[] args = new String[1 + request.groupArgs + n];
        args[0] = timeArg();
        int p = request.putGroups(args, 1);
        for (int i = 0; i < n; i++) {
            args[p++] = Numbers.text(request.group[i] + 1);
        }
        CompletableFuture<List<CounterState>> result = call(() -> calls.eval(Script.READ, keyArgs, args))
                .thenApply(reply -> {
                    List<CounterState> states = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        long used = Long.parseLong((String) reply.get(1 + i));
                        long start = (Long) reply.get(1 + n + request.group[i]);
                        states.add(new CounterState(request.plan[i].limit(), used,
                                request.plan[i].windowStartingAt(start)));
                    }
                    return List.copyOf(states);
                });
        return calls.bounded(result, "read");
    }

    /**
     * The counters changed after {@code mark}, from the change log, with their current values. Marks are change
     * sequence numbers, not times: a change is reported by the first call that starts after it, and once, however
     * the clocks stand. The log is read in pages; counters whose keys have expired are dropped from it, and so are
     * changes older than {@link RedisStoreOptions#changeLogRetention()}. A mark above the current sequence number
     * (Redis lost its data since the mark was given) reads the whole log.
     */
    @Override
    public ChangeBatch changesSince(long mark) {
        String operation = "changesSince";
        RedisAsyncCommands<String, String> redis = calls.commands();
        String log = keys.changed();
        String[] openKeys = new String[SHARED_KEYS + 1];
        sharedKeys(openKeys);
        openKeys[SHARED_KEYS] = keys.marks();
        List<Object> opened = calls.await(calls.eval(Script.CHANGES, openKeys,
                new String[] {timeArg(), Long.toString(options.changeLogRetention().toMillis())}), operation);
        long sequence = (Long) opened.get(1);
        long from = mark > sequence ? 0 : mark;

        List<CounterSnapshot> snapshots = new ArrayList<>();
        List<String> gone = new ArrayList<>();
        Map<String, WindowSpec> specs = new HashMap<>();
        Range.Boundary<Double> lower = Range.Boundary.excluding((double) from);
        Range.Boundary<Double> upper = Range.Boundary.including((double) sequence);
        while (true) {
            List<ScoredValue<String>> page = calls.await(redis.zrangebyscoreWithScores(log, Range.from(lower, upper),
                    io.lettuce.core.Limit.create(0, CHANGES_PAGE)), operation);
            if (page.size() < CHANGES_PAGE) {
                collect(members(page, Double.POSITIVE_INFINITY), snapshots, gone, specs);
                break;
            }
            // members move up while we page (a newer change), so page by score, never by offset: the page below
            // its last score, then every member at exactly that score (one script call's counters), then above it
            double last = page.get(page.size() - 1).getScore();
            collect(members(page, last), snapshots, gone, specs);
            collect(calls.await(redis.zrangebyscore(log, Range.create(last, last)), operation), snapshots, gone,
                    specs);
            lower = Range.Boundary.excluding(last);
        }
        if (!gone.isEmpty()) {
            // an expired counter's window is over: no script writes its key again, so its entry can go
            calls.await(redis.zrem(log, gone.toArray(new String[0])), operation);
        }
        return new ChangeBatch(snapshots, sequence);
    }

    /**
     * Raises each counter of a window that has not ended by store time to at least its snapshot value, one script
     * call per 500 snapshots. Never lowers a counter; restored windows expire like any other.
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
        return "RedisGovernanceStore[" + options.keyPrefix() + "]";
    }

    private LimitPlan planOf(Limit limit, LimitPlan[] earlier, int count) {
        LimitPlan plan = plans.plan(Objects.requireNonNull(limit, "CounterOp.limit"));
        String base = plan.keyBase();
        for (int j = 0; j < count; j++) {
            if (earlier[j].keyBase().equals(base)) {
                throw new IllegalArgumentException("ops name the counter " + limit.counterId() + " twice");
            }
        }
        return plan;
    }

    /** The keys every script takes first, in the order of prelude.lua. */
    private void sharedKeys(String[] keyArgs) {
        keyArgs[0] = keys.ready();
        keyArgs[1] = keys.changed();
        keyArgs[2] = keys.sequence();
        keyArgs[3] = keys.mark();
    }

    private String timeArg() {
        return testTime == null ? "" : Long.toString(testTime.millis());
    }

    /** Runs a call that checks the data-loss marker; restores and runs it again once if the marker is missing. */
    private <T> CompletionStage<T> guarded(String operation, Supplier<CompletableFuture<List<Object>>> script,
                                           Function<List<Object>, T> parse) {
        CompletableFuture<T> result = call(script).thenCompose(reply -> {
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
        return calls.bounded(result, operation);
    }

    private static CompletableFuture<List<Object>> call(Supplier<CompletableFuture<List<Object>>> script) {
        try {
            return script.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Store time now, in epoch milliseconds: Redis {@code TIME}, or the test time source. Blocks. */
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

    private void collect(List<String> members, List<CounterSnapshot> snapshots, List<String> gone,
                         Map<String, WindowSpec> specs) {
        if (members.isEmpty()) {
            return;
        }
        List<KeyValue<String, String>> values = calls.await(calls.commands().mget(members.toArray(new String[0])),
                "changesSince");
        for (KeyValue<String, String> entry : values) {
            if (!entry.hasValue()) {
                gone.add(entry.getKey());
                continue;
            }
            CounterSnapshot snapshot = snapshot(entry.getKey(), entry.getValue(), specs);
            if (snapshot != null) {
                snapshots.add(snapshot);
            }
        }
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
        List<CounterSnapshot> all = new ArrayList<>(snapshots.size());
        for (CounterSnapshot snapshot : snapshots) {
            all.add(Objects.requireNonNull(snapshot, "snapshots[" + all.size() + "]"));
        }
        int raised = 0;
        for (int from = 0; from < all.size(); from += RESTORE_BATCH) {
            List<CounterSnapshot> batch = all.subList(from, Math.min(all.size(), from + RESTORE_BATCH));
            String[] keyArgs = new String[batch.size() + SHARED_KEYS];
            String[] args = new String[2 + 2 * batch.size()];
            sharedKeys(keyArgs);
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
            List<Object> reply = calls.await(calls.eval(Script.RESTORE, keyArgs, args), "restore");
            raised += ((Long) reply.get(1)).intValue();
        }
        return raised;
    }

    /** Runs on the ready guard's thread, never on an event loop: it may block on the snapshot source. */
    private void restoreAfterDataLoss() {
        if (calls.await(calls.commands().exists(keys.ready()), "restore") > 0) {
            // a restore that finished in the meantime (this replica's or another's) already covered this loss
            return;
        }
        long now = storeTime("restore");
        // a new sequence starts above every mark handed out before the loss, so a flusher's next read misses nothing
        long base = Math.min(Math.max(now, 0) * SEQUENCE_PER_MILLI, SCRIPT_TIME_LIMIT / 2);
        calls.await(calls.commands().set(keys.sequence(), Long.toString(base), SetArgs.Builder.nx()), "restore");
        SnapshotSource source = options.snapshotSource();
        int offered = 0;
        int raised = 0;
        if (source != null) {
            List<CounterSnapshot> snapshots = source.currentSnapshots(Instant.ofEpochMilli(now));
            offered = snapshots == null ? 0 : snapshots.size();
            raised = snapshots == null ? 0 : restoreCounting(snapshots);
        }
        calls.await(calls.commands().set(keys.ready(), Long.toString(now)), "restore");
        if (source == null) {
            LOG.info("Redis store '{}': no data-loss marker (new or emptied Redis); no snapshot source is configured, "
                    + "so counters go on from what Redis holds", options.keyPrefix());
        } else {
            LOG.info("Redis store '{}': no data-loss marker (new or emptied Redis); restored {} counters from {} "
                    + "snapshots before trusting it", options.keyPrefix(), raised, offered);
        }
    }

    /**
     * The limits of one call, with the window each is expected in, grouped by window: ops with the same layout and
     * the same expected window share one group, which the script computes once.
     */
    private final class Request {
        final LimitPlan[] plan;
        final LimitPlan.Expected[] expected;
        /** Group of each op, from 0. */
        final int[] group;
        /** First op of each group. */
        final int[] leader;
        int groups;
        int groupArgs = 1;
        private final long localMillis = localClock.millis();

        Request(int n) {
            plan = new LimitPlan[n];
            expected = new LimitPlan.Expected[n];
            group = new int[n];
            leader = new int[n];
        }

        void add(int i, LimitPlan limitPlan) {
            plan[i] = limitPlan;
            LimitPlan.Expected mine = limitPlan.expected(localMillis);
            expected[i] = mine;
            for (int g = 0; g < groups; g++) {
                LimitPlan.Expected other = expected[leader[g]];
                if (other == mine || (other.window().equals(mine.window())
                        && plan[leader[g]].spec().equals(limitPlan.spec()))) {
                    group[i] = g;
                    return;
                }
            }
            group[i] = groups;
            leader[groups++] = i;
            groupArgs += mine.args().length;
        }

        /** The key arguments: {@code first} slots for the caller, then each op's expected key. */
        String[] keys(int first) {
            String[] keyArgs = new String[first + plan.length];
            for (int i = 0; i < plan.length; i++) {
                keyArgs[first + i] = expected[i].key();
            }
            return keyArgs;
        }

        /** Writes the group count and each group's window arguments from {@code p}; returns the next index. */
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
        private final RedisClient client;
        private final StatefulRedisConnection<String, String> connection;
        private RedisStoreOptions options = RedisStoreOptions.defaults();

        private Builder(RedisClient client, StatefulRedisConnection<String, String> connection) {
            this.client = client;
            this.connection = connection;
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
                return new RedisGovernanceStore(connection, false, options);
            }
            StatefulRedisConnection<String, String> opened;
            try {
                opened = client.connect(StringCodec.UTF8);
            } catch (RedisException e) {
                throw StoreException.unavailable(RedisCalls.STORE, "connect", e);
            }
            // commands abandoned by a caller's timeout should not linger in Lettuce either
            opened.setTimeout(options.commandTimeout());
            return new RedisGovernanceStore(opened, true, options);
        }
    }
}
