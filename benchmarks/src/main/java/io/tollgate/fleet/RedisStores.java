package io.tollgate.fleet;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.tollgate.benchmarks.RedisBackend;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.spi.GovernanceStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The Redis stores of a fleet run: one {@link RedisClient} and one {@link RedisGovernanceStore} per replica, as
 * separate gateway processes would have, under a key prefix of the run's own. Closing unlinks the run's keys.
 *
 * <p>Not thread-safe to open and close; the stores themselves are thread-safe.
 */
final class RedisStores extends Fleet.Stores {

    private final String uri;
    private final String keyPrefix;
    private final List<RedisClient> clients = new ArrayList<>();
    private final List<GovernanceStore> stores = new ArrayList<>();
    private RedisCommandStats commandStats;

    private RedisStores(String uri, String keyPrefix) {
        this.uri = uri;
        this.keyPrefix = keyPrefix;
    }

    static Fleet.Stores open(String uri, int replicas, String runId, Duration duration) {
        RedisStoreOptions options = RedisStoreOptions.builder()
                .keyPrefix("tollgate-fleet:" + runId)
                // Long enough for every re-sent update of the run to be recognized, short enough to go away.
                .idempotencyKeyLifetime(duration.plusMinutes(1))
                .build();
        RedisStores stores = new RedisStores(uri, options.keyPrefix());
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

    @Override
    GovernanceStore store(int replica) {
        return stores.get(replica);
    }

    @Override
    String description() {
        return "Redis at " + redacted(uri) + " (one client and store per replica, key prefix " + keyPrefix + ")";
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
