package io.tollgate.fleet;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.tollgate.benchmarks.RedisBackend;
import io.tollgate.redis.LeasedAdmission;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.RedisStoreStats;
import io.tollgate.spi.GovernanceStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The Redis stores of a fleet run: one {@link RedisClient} and one {@link RedisGovernanceStore} per replica, as
 * separate gateway processes would have, under a key prefix of the run's own, with leased admission on every limit
 * when the run asks for it. Closing unlinks the run's keys.
 *
 * <p>Not thread-safe to open and close; the stores themselves are thread-safe.
 */
final class RedisStores extends Fleet.Stores {

    /** The leased admission of a run with leases: every limit, the default sizes and times. */
    static final LeasedAdmission LEASES = LeasedAdmission.everyLimit();

    private final String uri;
    private final String keyPrefix;
    private final boolean leases;
    private final List<RedisClient> clients = new ArrayList<>();
    private final List<GovernanceStore> stores = new ArrayList<>();
    private RedisCommandStats commandStats;

    private RedisStores(String uri, String keyPrefix, boolean leases) {
        this.uri = uri;
        this.keyPrefix = keyPrefix;
        this.leases = leases;
    }

    static Fleet.Stores open(String uri, int replicas, String runId, Duration duration, boolean leases) {
        RedisStoreOptions options = options(keyPrefix(runId), duration, leases);
        RedisStores stores = new RedisStores(uri, options.keyPrefix(), leases);
        try {
            for (int i = 0; i < replicas; i++) {
                RedisClient client = RedisClient.create(uri);
                stores.clients.add(client);
                if (i == 0) {
                    // a store starts while Redis is down and connects later; a run must not
                    client.connect().close();
                }
                stores.stores.add(RedisGovernanceStore.builder(client).options(options).build());
            }
            return stores;
        } catch (RuntimeException e) {
            stores.close();
            throw e;
        }
    }

    /** The key prefix of the run {@code runId}. */
    static String keyPrefix(String runId) {
        return "tollgate-fleet:" + runId;
    }

    /** The options of every store of a run of {@code duration}, with leased admission on every limit or none. */
    static RedisStoreOptions options(String keyPrefix, Duration duration, boolean leases) {
        RedisStoreOptions.Builder options = RedisStoreOptions.builder()
                .keyPrefix(keyPrefix)
                // Long enough for every re-sent update of the run to be recognized, short enough to go away.
                .idempotencyKeyLifetime(duration.plusMinutes(1));
        if (leases) {
            options.leasedAdmission(LEASES);
        }
        return options.build();
    }

    @Override
    GovernanceStore store(int replica) {
        return stores.get(replica);
    }

    @Override
    String description() {
        return "Redis at " + redacted(uri) + " (one client and store per replica, key prefix " + keyPrefix
                + (leases ? ", leased admission on every limit)" : ")");
    }

    /**
     * Command counts read on a connection of their own, so that they never wait behind a replica's calls; opened
     * on first use.
     */
    @Override
    RedisCommandStats commandStats() {
        if (commandStats == null) {
            commandStats = new RedisCommandStats(() -> clients.get(0).connect());
        }
        return commandStats;
    }

    @Override
    long cachedDenials() {
        long hits = 0;
        for (GovernanceStore store : stores) {
            hits += ((RedisGovernanceStore) store).stats().cachedDenials();
        }
        return hits;
    }

    @Override
    RedisStoreStats leasedAdmission() {
        if (!leases) {
            return null;
        }
        long local = 0;
        long shared = 0;
        long refills = 0;
        long returns = 0;
        long held = 0;
        for (GovernanceStore store : stores) {
            RedisStoreStats stats = ((RedisGovernanceStore) store).stats();
            local += stats.localAdmissions();
            shared += stats.sharedDecisions();
            refills += stats.sliceRefills();
            returns += stats.sliceReturns();
            held += stats.slicesHeld();
        }
        return new RedisStoreStats(cachedDenials(), 0, 0, local, shared, refills, returns, held);
    }

    /** The URI without a password. */
    static String redacted(String uri) {
        return uri.replaceAll("//[^@/]*@", "//***@");
    }

    @Override
    public void close() {
        if (commandStats != null) {
            commandStats.close();
        }
        for (GovernanceStore store : stores) {
            store.close();
        }
        if (!clients.isEmpty()) {
            try (StatefulRedisConnection<String, String> connection = clients.get(0).connect()) {
                RedisBackend.deleteKeys(connection.sync(), keyPrefix);
            } catch (RuntimeException e) {
                System.err.println("fleet: could not delete the run's keys under " + keyPrefix + ": " + e);
            }
        }
        for (RedisClient client : clients) {
            client.shutdown();
        }
    }
}
