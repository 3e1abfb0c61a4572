package io.tollgate.benchmarks;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.event.command.CommandListener;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.spi.GovernanceStore;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.UUID;

/**
 * The Redis side of a {@link StoreFixture}: a {@link RedisClient}, the Redis governance store on it, and the
 * store's connection for the floor benchmarks ({@code PING}, a one-key script by {@code EVALSHA}, and a bare
 * hierarchical script over as many counters as a 7-level request). Connects to
 * {@link RedisLauncher#configuredUri()}, else starts a {@code redis-server} and stops it on {@link #close()}.
 *
 * <p>Thread-safe: Lettuce connections may be shared by any number of threads.
 */
public final class RedisBackend implements AutoCloseable {

    static final String FLOOR_KEY = "tollgate-bench:floor";
    private static final String INCR_SCRIPT = "return redis.call('INCR', KEYS[1])";
    /** As many counters as a 7-level request has: three per level. */
    static final int HIERARCHY_COUNTERS = 21;
    /** The counters a check without estimates takes: the request slot of each of the 7 levels. */
    static final int HIERARCHY_TAKEN_BY_CHECK = 7;
    // The least a 7-level atomic check can do: the server's time, one read of every counter, the fit test, then one
    // increment per counter taken. No windows, no exact 64-bit arithmetic, no reply detail: a floor, not a design.
    private static final String HIERARCHY_SCRIPT = """
            redis.call('TIME')
            local values = redis.call('MGET', unpack(KEYS))
            for i = 1, #KEYS do
              if tonumber(values[i] or '0') + tonumber(ARGV[i]) > 1e15 then return 0 end
            end
            for i = 1, #KEYS do
              if ARGV[i] ~= '0' then redis.call('INCRBY', KEYS[i], ARGV[i]) end
            end
            return 1""";

    private final RedisLauncher launcher;
    private final RedisClient client;
    private final GovernanceStore store;
    private final StatefulRedisConnection<String, String> connection;
    private final RedisCommands<String, String> commands;
    private final String scriptSha;
    private final String hierarchySha;
    private final String[] hierarchyKeys;
    private final String[] checkAmounts;
    private final String[] chargeAmounts;
    private final String keyPrefix;

    private RedisBackend(RedisLauncher launcher, RedisClient client, GovernanceStore store,
                         StatefulRedisConnection<String, String> connection, String keyPrefix) {
        this.launcher = launcher;
        this.keyPrefix = keyPrefix;
        this.client = client;
        this.store = store;
        this.connection = connection;
        this.commands = connection.sync();
        this.scriptSha = commands.scriptLoad(INCR_SCRIPT);
        this.hierarchySha = commands.scriptLoad(HIERARCHY_SCRIPT);
        this.hierarchyKeys = new String[HIERARCHY_COUNTERS];
        this.checkAmounts = new String[HIERARCHY_COUNTERS];
        this.chargeAmounts = new String[HIERARCHY_COUNTERS];
        for (int i = 0; i < HIERARCHY_COUNTERS; i++) {
            // One hash tag, so that the script would also run on one Cluster slot.
            hierarchyKeys[i] = FLOOR_KEY + ":{h}:" + i;
            checkAmounts[i] = i < HIERARCHY_TAKEN_BY_CHECK ? "1" : "0";
            chargeAmounts[i] = "1";
        }
    }

    /** Connects to the configured Redis or to one it starts. */
    public static RedisBackend open() {
        return open(RedisLauncher.configuredUri(), null, List.of());
    }

    /**
     * Connects to {@code uri}, or to a {@code redis-server} it starts when {@code uri} is {@code null}, with
     * {@code listener} (when not {@code null}) told of every command the store's connection sends, and the server
     * started behind {@code serverLauncher} (see {@link RedisLauncher#start(List)}).
     */
    static RedisBackend open(String uri, CommandListener listener, List<String> serverLauncher) {
        return open(uri, listener, serverLauncher, options -> { });
    }

    /** {@link #open()} with store options of the caller's on top of the benchmarks' own. */
    static RedisBackend open(Consumer<RedisStoreOptions.Builder> storeOptions) {
        return open(RedisLauncher.configuredUri(), null, List.of(), storeOptions);
    }

    private static RedisBackend open(String uri, CommandListener listener, List<String> serverLauncher,
                                     Consumer<RedisStoreOptions.Builder> storeOptions) {
        RedisLauncher launcher = uri == null ? RedisLauncher.start(serverLauncher) : null;
        RedisClient client = null;
        try {
            client = RedisClient.create(uri != null ? uri : launcher.uri());
            if (listener != null) {
                client.addListener(listener);
            }
            StatefulRedisConnection<String, String> connection = client.connect();
            // On a shared Redis a fresh prefix keeps runs apart; on its own server the store has the default prefix,
            // so that its keys are as long as a user's. A short idempotency key lifetime keeps the millions of
            // distinct request ids a benchmark charges from filling Redis memory.
            RedisStoreOptions.Builder builder = RedisStoreOptions.builder()
                    .idempotencyKeyLifetime(Duration.ofSeconds(10));
            if (launcher == null) {
                builder.keyPrefix("tollgate-bench:" + UUID.randomUUID().toString().substring(0, 8));
            }
            storeOptions.accept(builder);
            RedisStoreOptions options = builder.build();
            connection.setTimeout(options.commandTimeout());
            // The store runs on this very connection, so the floors measure the round trip the store pays.
            GovernanceStore store = RedisGovernanceStore.builder(connection).options(options).build();
            return new RedisBackend(launcher, client, store, connection, options.keyPrefix());
        } catch (RuntimeException e) {
            if (client != null) {
                client.shutdown();
            }
            if (launcher != null) {
                launcher.close();
            }
            throw e;
        }
    }

    public GovernanceStore store() {
        return store;
    }

    /** Commands on the store's own connection. */
    RedisCommands<String, String> commands() {
        return commands;
    }

    /** The store's own connection. */
    StatefulRedisConnection<String, String> connection() {
        return connection;
    }

    /** One {@code PING} round trip. */
    public String ping() {
        return commands.ping();
    }

    /** One {@code EVALSHA} of a one-key {@code INCR} script. */
    public Long incrementByScript() {
        return commands.evalsha(scriptSha, ScriptOutputType.INTEGER, FLOOR_KEY);
    }

    /**
     * One {@code EVALSHA} of the bare hierarchical script over 21 counters, 7 of them taken: the work of a 7-level
     * check without estimates, done as simply as Lua allows.
     */
    public Long hierarchyCheckByScript() {
        return commands.evalsha(hierarchySha, ScriptOutputType.INTEGER, hierarchyKeys, checkAmounts);
    }

    /** The same bare script with every one of the 21 counters taken: the work of a 7-level charge. */
    public Long hierarchyChargeByScript() {
        return commands.evalsha(hierarchySha, ScriptOutputType.INTEGER, hierarchyKeys, chargeAmounts);
    }

    /** The script calls ({@code EVALSHA}) Redis counted since its start or its last {@code CONFIG RESETSTAT}. */
    public long scriptCalls() {
        for (String line : commands.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_evalsha:")) {
                return Long.parseLong(line.replaceAll("^cmdstat_evalsha:calls=(\\d+),.*", "$1"));
            }
        }
        return 0;
    }

    /** {@code redis_version} from {@code INFO server}. */
    public String serverVersion() {
        return serverVersion(commands.info("server"));
    }

    static String serverVersion(String info) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("redis_version:")) {
                return line.substring("redis_version:".length()).trim();
            }
        }
        return "unknown";
    }

    /**
     * Unlinks every key whose name starts with {@code prefix + ":"}, by {@code SCAN}, so that a run leaves nothing
     * behind on a Redis it did not start (budgets that never reset have keys that never expire).
     */
    public static long deleteKeys(RedisCommands<String, String> commands, String prefix) {
        long deleted = 0;
        // Key prefixes allow no glob characters ([A-Za-z0-9._:-]), so the pattern needs no escaping.
        ScanArgs match = ScanArgs.Builder.matches(prefix + ":*").limit(1_000);
        KeyScanCursor<String> cursor = commands.scan(match);
        while (true) {
            if (!cursor.getKeys().isEmpty()) {
                deleted += commands.unlink(cursor.getKeys().toArray(String[]::new));
            }
            if (cursor.isFinished()) {
                return deleted;
            }
            cursor = commands.scan(cursor, match);
        }
    }

    @Override
    public void close() {
        try {
            if (launcher == null) {
                deleteKeys(commands, keyPrefix);
                commands.del(FLOOR_KEY);
                commands.del(hierarchyKeys);
            }
            store.close();
            connection.close();
            client.shutdown();
        } finally {
            if (launcher != null) {
                launcher.close();
            }
        }
    }
}
