package io.tollgate.spring;

import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.tollgate.TollgateListener;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.resilience.ResilientStoreOptions;
import io.tollgate.resilience.RestoreWatch;
import io.tollgate.spi.GovernanceStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.time.Clock;
import java.util.Optional;

/**
 * The store that {@code tollgate.store} asks for, with what it needs around it: the Redis client it opened (if the
 * application had none), the resilient store in front, the snapshot flusher behind. {@link #close()} closes them in
 * the one safe order: the flusher (a final flush), the store (a last replay), then the client it opened. The
 * application's own client and data source are never closed.
 *
 * <p>Thread-safe once built.
 */
public final class TollgateStores implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TollgateStores.class);
    private static final String DEFAULT_URI = "redis://localhost:6379";

    private final GovernanceStore store;
    private final AbstractRedisClient ownedClient;
    private final AutoCloseable flusher;

    private TollgateStores(GovernanceStore store, AbstractRedisClient ownedClient, AutoCloseable flusher) {
        this.store = store;
        this.ownedClient = ownedClient;
        this.flusher = flusher;
    }

    static TollgateStores memory(TollgateProperties properties) {
        return new TollgateStores(InMemoryGovernanceStore.builder()
                .leaseDuration(properties.getLeaseDuration()).build(), null, null);
    }

    /**
     * The Redis store on a client of its own for {@code tollgate.redis.uri} when that is set, else on {@code client}
     * (the application's), else on a client of its own for the local default; wrapped in a resilient store unless turned off; with snapshots in {@code dataSource}
     * when there is one and {@code tollgate-jdbc-store} is on the class path.
     */
    static TollgateStores redis(TollgateProperties properties, AbstractRedisClient client, DataSource dataSource,
                                CircuitBreakerRegistry breakers, TollgateListener listener) {
        TollgateProperties.Redis redis = properties.getRedis();
        AbstractRedisClient owned = null;
        if (client == null || redis.getUri() != null) {
            RedisURI uri = RedisURI.create(redis.getUri() != null ? redis.getUri() : DEFAULT_URI);
            client = owned = redis.isCluster() ? RedisClusterClient.create(uri) : RedisClient.create(uri);
        }
        boolean snapshots = dataSource != null && properties.getFlush().isEnabled() && JdbcSupport.present();
        RestoreWatch restores = snapshots ? RestoreWatch.of(JdbcSupport.snapshotSource(dataSource)) : null;
        RedisStoreOptions.Builder options = RedisStoreOptions.builder()
                .keyPrefix(redis.getKeyPrefix())
                .commandTimeout(redis.getCommandTimeout())
                .leaseDuration(properties.getLeaseDuration())
                .cacheDenials(redis.isCacheDenials())
                .denialRecheck(redis.getDenialRecheck())
                .leasedAdmission(redis.getLeasedAdmission().toOptions());
        if (restores != null) {
            options.snapshotSource(restores);
        }
        GovernanceStore store = null;
        AutoCloseable flusher = null;
        try {
            RedisGovernanceStore.Builder builder = client instanceof RedisClusterClient cluster
                    ? RedisGovernanceStore.builder(cluster) : RedisGovernanceStore.builder((RedisClient) client);
            store = builder.options(options.build()).listener(listener).build();
            TollgateProperties.Resilience resilience = properties.getResilience();
            if (resilience.isEnabled()) {
                ResilientGovernanceStore.Builder resilient = ResilientGovernanceStore.builder(store)
                        .options(ResilientStoreOptions.builder().policy(resilience.getPolicy())
                                .expectedReplicas(resilience.getExpectedReplicas()).build())
                        .listener(listener);
                if (restores != null) {
                    resilient.restoreWatch(restores);
                }
                if (breakers != null) {
                    resilient.circuitBreakerRegistry(breakers, resilience.getCircuitBreakerName());
                }
                store = resilient.build();
            }
            if (snapshots) {
                flusher = JdbcSupport.startFlusher(store, dataSource, properties.getFlush(), listener);
            }
            return new TollgateStores(store, owned, flusher);
        } catch (RuntimeException e) {
            new TollgateStores(store, owned, flusher).close();
            throw e;
        }
    }

    /** The store the resolver and the tracker use. */
    public GovernanceStore store() {
        return store;
    }

    /** The resilient store in front of Redis, if there is one. */
    public Optional<ResilientGovernanceStore> resilient() {
        return store instanceof ResilientGovernanceStore resilient ? Optional.of(resilient) : Optional.empty();
    }

    /** Seconds since the snapshot flusher's last successful flush; empty without a flusher or before its first. */
    public Optional<Long> flushLagSeconds() {
        if (flusher == null) {
            return Optional.empty();
        }
        long lag = JdbcSupport.flushLagSeconds(flusher, Clock.systemUTC());
        return lag < 0 ? Optional.empty() : Optional.of(lag);
    }

    @Override
    public void close() {
        closeQuietly(flusher, "snapshot flusher");
        closeQuietly(store, "store");
        if (ownedClient != null) {
            ownedClient.shutdown();
        }
    }

    private static void closeQuietly(AutoCloseable closeable, String what) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.warn("Tollgate: closing the {} failed", what, e);
        }
    }
}
