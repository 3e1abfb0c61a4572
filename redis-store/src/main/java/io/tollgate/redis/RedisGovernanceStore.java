package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.tollgate.Limit;
import io.tollgate.StoreException;
import io.tollgate.TollgateListener;
import io.tollgate.redis.internal.ChangeReader;
import io.tollgate.redis.internal.ChargeBatches;
import io.tollgate.redis.internal.Connector;
import io.tollgate.redis.internal.DataLossRestore;
import io.tollgate.redis.internal.DenialCache;
import io.tollgate.redis.internal.GroupCalls;
import io.tollgate.redis.internal.KeySpace;
import io.tollgate.redis.internal.LeaseEntries;
import io.tollgate.redis.internal.PlanCache;
import io.tollgate.redis.internal.RedisCalls;
import io.tollgate.redis.internal.SliceBook;
import io.tollgate.redis.internal.SlotGroups;
import io.tollgate.redis.internal.StoreClock;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.DataLoss;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.ReserveResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
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
 * <h2>One round trip per decision</h2>
 * {@link #reserve} and {@link #charge} are one {@code EVALSHA} each on standalone Redis, for the request's whole list
 * of limits. The reservation script reads Redis {@code TIME}, reads every counter with one {@code MGET}, and only if
 * every one {@linkplain CounterOp#fits fits} takes every amount and hold; a charge adds at every level and gives back
 * what a settled lease holds, at most once per idempotency key. What the scripts need is computed once per resolved
 * list in Java (keys with their window starts, thresholds, expiries), and the scripts build no string and keep no
 * change log. Scripts are sent by digest; after a Redis restart or {@code SCRIPT FLUSH} ({@code NOSCRIPT}) the store
 * loads the script and runs the call again. On Redis Cluster a request's limits are split by hash tag and each slot
 * group runs its own script (see {@code SlotGroups} and the module's README for the guarantees).
 *
 * <h2>One clock: Redis {@code TIME}</h2>
 * The store sends the counter keys of the windows that hold the store time it guesses (its own clock plus the offset
 * the last reply showed), with the interval in which all of them hold; the script checks it against Redis time and,
 * when the guess was wrong (within moments of a window boundary, or a clock that jumped), changes nothing and answers
 * with Redis time, and the store tries again with it. So replicas whose clocks disagree still enforce the same
 * windows, on Redis time (on Redis Cluster, each counter on the clock of the node that holds it).
 * {@link RedisStoreOptions#testTimeSource()} replaces Redis time, for tests only.
 *
 * <h2>Keys</h2>
 * Readable and versioned, such as {@code tollgate:v2:c:{tg}:vk:key-42:requests:1m:1700000040000}: prefix, version,
 * hash tag, holder kind, holder id, metric, window layout id, window start. Ids are percent-encoded outside
 * {@code [A-Za-z0-9._-]}, so {@code : { } %}, spaces and non-ASCII cannot break the layout; the store sees holder ids
 * only, never a virtual key's secret. A counter key expires {@link RedisStoreOptions#expiredWindowRetention()} after
 * its window ends: there is no reset job.
 *
 * <h2>Leases</h2>
 * What a reservation holds (token and cost estimates, in-flight slots) is registered under a lease in the script that
 * takes it: an entry of the tag's lease set that names each counter and hold, expiring after
 * {@link RedisStoreOptions#leaseDuration()}. The charge that settles it gives the holds back once; a lease nobody
 * settles or extends is given back by the first script of its tag that runs after it expired, whichever replica runs
 * it. A settle after the expiry gives back nothing more.
 *
 * <h2>Snapshots and data loss</h2>
 * {@link #changes()} reads the counters this replica changed, with a version per read, and every
 * {@link RedisStoreOptions#sweepInterval()} one replica also reads every counter in Redis (see {@code ChangeReader}).
 * A data epoch key per tag tells whether Redis still holds that tag's data: when it is missing (a new Redis,
 * {@code FLUSHALL}, a restart without persistence, a node replaced by an empty one) the scripts of that tag change
 * nothing, and the store restores the current windows of every tag that lost its epoch from the
 * {@link RedisStoreOptions#snapshotSource()} (once, whichever callers are waiting), sets a new epoch once, reports the
 * loss to its {@linkplain #onDataLoss listeners} and only then runs the calls again. A replica that finds a new epoch
 * in a reply reports the loss too, before that reply's call completes. {@link #read} does not wait for a restore.
 *
 * <h2>Bounds</h2>
 * Counters are 64-bit and exact up to 2<sup>63</sup> - 1, like the in-memory store: Lua numbers are doubles (exact
 * only to 2<sup>53</sup>), so the scripts keep counter values as decimal text and compare long ones as text. A charge
 * whose sum would pass 2<sup>63</sup> - 1 fails with an {@link ArithmeticException} that says "overflow", and nothing
 * is applied. Every call completes within {@link RedisStoreOptions#commandTimeout()}, with a {@link StoreException} on
 * timeout or when Redis cannot answer, and a {@link io.tollgate.StoreRefusedException} when it answers with an error
 * that a retry will not change.
 *
 * <p>Thread-safe. One connection, opened from the user's client (or passed in) and shared by every caller: Lettuce
 * pipelines concurrent commands (a cluster connection keeps one connection per node). The returned stages complete
 * on Lettuce's event-loop threads: a caller must not block in a dependent stage. {@link #close()} closes the
 * connection the store opened, never the user's client. A store built from a client while Redis is down starts all
 * the same and connects once Redis answers (see {@link Builder#build()}).
 */
public final class RedisGovernanceStore implements GovernanceStore {

    private static final Logger LOG = LoggerFactory.getLogger(RedisGovernanceStore.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Connector connector;
    private final boolean cluster;
    private final RedisStoreOptions options;
    private final PlanCache plans;
    private final RedisCalls calls;
    private final ChangeReader changes;
    private final DataLossRestore restore;
    private final DenialCache denials;
    private final ChargeBatches charges;
    private final GroupCalls groupCalls;
    private final SliceBook slices;
    private final SlotGroups groups;

    private RedisGovernanceStore(Connector connector, boolean cluster, RedisStoreOptions options,
                                 TollgateListener listener) {
        this.connector = connector;
        this.cluster = cluster;
        this.options = options;
        KeySpace keys = cluster ? KeySpace.cluster(options.keyPrefix(), options.placement())
                : KeySpace.standalone(options.keyPrefix());
        long retention = options.expiredWindowRetention().toMillis();
        String storeId = Long.toHexString(ThreadLocalRandom.current().nextLong());
        StoreClock clock = new StoreClock(options.clock(), options.testTimeSource());
        this.plans = new PlanCache(keys, retention);
        this.calls = new RedisCalls(connector, cluster, options.commandTimeout());
        this.changes = new ChangeReader(calls, keys, clock, options.sweepInterval().toMillis(), storeId);
        this.restore = new DataLossRestore(calls, keys, clock, options.snapshotSource(), retention, changes,
                options.keyPrefix());
        changes.restoreWith(restore);
        this.denials = new DenialCache(options.cacheDenials(), cluster, options.denialRecheck().toMillis(),
                clock.testing());
        // restored counters may hold less than a remembered denial saw
        restore.onDataLoss(loss -> denials.forgetAll());
        this.charges = new ChargeBatches(calls, options.chargeBatchWindow().toNanos(), options.chargeBatchSize());
        this.groupCalls = new GroupCalls(calls, charges, clock, restore, changes, options.leaseDuration().toMillis(),
                options.idempotencyKeyLifetime().toMillis());
        this.slices = new SliceBook(groupCalls, clock, options.leasedAdmission(), options.leaseDuration().toMillis(),
                options.keyPrefix(), listener);
        // the slices were counted in the data that is gone
        restore.onDataLoss(loss -> slices.dropAll());
        this.groups = new SlotGroups(groupCalls, keys, new LeaseEntries(), denials, slices, clock);
        slices.holdsBy(new SliceBook.Holds() {
            @Override
            public CompletableFuture<ReserveResult> take(Limit limit, long amount) {
                List<Limit> limits = List.of(limit);
                return groups.reserveInRedis(plans.plan(limits, false),
                        CounterOps.of(limits, new long[] {0}, new long[] {amount}));
            }

            @Override
            public CompletableFuture<Boolean> giveBack(String lease) {
                return groups.charge(plans.plan(List.of(), false), CounterOps.empty().settling(lease),
                        "slice-return:" + lease).thenApply(result -> result == ChargeResult.APPLIED);
            }

            @Override
            public CompletableFuture<Boolean> extend(String lease) {
                return groups.extend(lease);
            }
        });
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
        warnWithoutTopologyRefresh(client);
        return new Builder(() -> client.connect(StringCodec.UTF8), null, true);
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

    /** What this store did so far. */
    public RedisStoreStats stats() {
        return new RedisStoreStats(denials.hits(), groupCalls.windowRetries(), restore.restores(),
                slices.localAdmissions(), slices.sharedDecisions(), slices.refills(), slices.returns(),
                slices.heldNow());
    }

    @Override
    public CompletionStage<ReserveResult> reserve(List<CounterOp> list) {
        CounterOps ops = CounterOps.from(list);
        return calls.bounded(groups.reserve(plans.plan(ops.limits(), ops.sharesLimits()), ops), "reserve");
    }

    @Override
    public CompletionStage<ChargeResult> charge(String idempotencyKey, List<CounterOp> list) {
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        CounterOps given = CounterOps.from(list);
        if (given.holdsAny()) {
            throw new IllegalArgumentException("a charge holds nothing: its ops must have a zero hold");
        }
        // estimates admitted from slices go back to them (once, and only on the replica that admitted them); the
        // charge itself goes to Redis
        CounterOps ops = given;
        if (given.settles() != null && slices.isLocal(given.settles())) {
            slices.settle(given.settles());
            ops = given.settling(null);
        }
        return calls.bounded(groups.charge(plans.plan(ops.limits(), ops.sharesLimits()), ops, idempotencyKey),
                "charge");
    }

    @Override
    public CompletionStage<List<CounterState>> read(List<Limit> limits) {
        Objects.requireNonNull(limits, "limits");
        return calls.bounded(groups.read(plans.plan(limits, false)), "read");
    }

    /**
     * The counters this replica changed since the last call, and every changed counter of the fleet when this
     * replica takes the sweep, with their values and versions read in one script call per tag. Blocks, off the hot
     * path; a tag found to have lost its data is restored first.
     */
    @Override
    public ChangeBatch changes() {
        return changes.changes();
    }

    /**
     * Raises each counter of a window that has not ended by store time to at least its snapshot value, one script
     * call per 500 snapshots of one tag. Never lowers a counter; restored windows expire like any other. Blocks.
     */
    @Override
    public void restore(Collection<CounterSnapshot> snapshots) {
        restore.raise(snapshots, false);
    }

    @Override
    public Duration leaseDuration() {
        return options.leaseDuration();
    }

    @Override
    public CompletionStage<Boolean> extendLease(String lease) {
        Objects.requireNonNull(lease, "lease");
        if (slices.isLocal(lease)) {
            return CompletableFuture.completedFuture(slices.extend(lease));
        }
        return calls.bounded(groups.extend(lease), "extendLease");
    }

    /** {@link RedisStoreOptions#commandTimeout()}: every call completes within it. */
    @Override
    public Optional<Duration> callTimeout() {
        return Optional.of(options.commandTimeout());
    }

    @Override
    public void onDataLoss(Consumer<DataLoss> listener) {
        restore.onDataLoss(listener);
    }

    @Override
    public void close() {
        slices.close(options.commandTimeout().toMillis());
        charges.close();
        restore.close();
        calls.close();
        connector.close();
    }

    @Override
    public String toString() {
        return "RedisGovernanceStore[" + options.keyPrefix() + (cluster ? ", cluster]" : "]");
    }

    /**
     * Loads the scripts and restores a Redis without data, so that the first calls find everything ready; waits for
     * that up to {@link #START_TIMEOUT} (a restore may read many snapshots), then lets calls wait for it themselves.
     */
    private void warmUp() {
        try {
            calls.loadScripts();
            groups.reserve(plans.plan(List.of(), false), CounterOps.empty()).get(START_TIMEOUT.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("Redis store '{}': not ready within {} of its start ({}); calls wait for it themselves",
                    options.keyPrefix(), START_TIMEOUT, e.toString());
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

    /** Builds a {@link RedisGovernanceStore}. Not thread-safe. */
    public static final class Builder {
        private final Supplier<StatefulConnection<String, String>> connect;
        private final StatefulConnection<String, String> connection;
        private final boolean cluster;
        private RedisStoreOptions options = RedisStoreOptions.defaults();
        private TollgateListener listener = TollgateListener.NOOP;

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
         * Told what leased admission does: slices taken and returned, checks admitted from slices or decided by a
         * call, what is held (see {@link LeasedAdmission}); {@link TollgateListener#NOOP} unless set.
         */
        public Builder listener(TollgateListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Opens the store's connection (if built from a client), loads the scripts and, on a Redis without data,
         * restores it, so that the first calls need neither. If Redis cannot be reached, the store is built all the
         * same: its calls fail at once with a {@link StoreException} (for the failure policy of a resilient store to
         * answer) while it tries to connect in the background, and it gets ready as above once Redis answers.
         */
        public RedisGovernanceStore build() {
            Connector connector;
            if (connection != null) {
                connector = Connector.given(connection, options.keyPrefix());
            } else {
                Duration timeout = options.commandTimeout();
                connector = Connector.opening(() -> {
                    StatefulConnection<String, String> opened = connect.get();
                    // commands abandoned by a caller's timeout should not linger in Lettuce either
                    opened.setTimeout(timeout);
                    return opened;
                }, options.keyPrefix());
            }
            RedisGovernanceStore store = new RedisGovernanceStore(connector, cluster, options, listener);
            try {
                connector.start(store::warmUp);
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
            return store;
        }
    }
}
