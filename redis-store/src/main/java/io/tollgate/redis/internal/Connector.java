package io.tollgate.redis.internal;

import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.tollgate.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The store's connection. One the user passed in is used as it is and never closed. One the store opens from the
 * user's client is opened at {@link #start}; if Redis cannot be reached then, the store still starts: every call
 * fails at once with a {@link StoreException} (so a failure policy can answer), and a daemon thread tries again, after
 * 100 ms at first and backing off to every 5 seconds, until Redis answers. Once open, Lettuce reconnects by itself
 * after any later outage.
 *
 * <p>Thread-safe.
 */
public final class Connector implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Connector.class);
    private static final long FIRST_RETRY_MILLIS = 100;
    private static final long LAST_RETRY_MILLIS = 5_000;

    private final Supplier<StatefulConnection<String, String>> connect;
    private final boolean owned;
    private final String storeName;
    private final Object lock = new Object();
    private volatile StatefulConnection<String, String> connection;
    private volatile RedisClusterAsyncCommands<String, String> commands;
    private volatile RuntimeException lastFailure;
    private Runnable whenOpen;
    private ScheduledExecutorService retries;
    private long retryMillis = FIRST_RETRY_MILLIS;
    private int attempts;
    private boolean closed;

    private Connector(Supplier<StatefulConnection<String, String>> connect,
                      StatefulConnection<String, String> connection, String storeName) {
        this.connect = connect;
        this.owned = connect != null;
        this.storeName = storeName;
        if (connection != null) {
            opened(connection);
        }
    }

    /** A connection the user opened and keeps. */
    public static Connector given(StatefulConnection<String, String> connection, String storeName) {
        return new Connector(null, connection, storeName);
    }

    /** A connection this store opens with {@code connect}, and closes. */
    public static Connector opening(Supplier<StatefulConnection<String, String>> connect, String storeName) {
        return new Connector(connect, null, storeName);
    }

    /**
     * Opens the connection now if it is not open yet, or starts trying in the background. {@code whenOpen} runs once
     * the connection is open: here if it is open now, else on the background thread.
     *
     * @return whether the connection is open
     */
    public boolean start(Runnable whenOpen) {
        if (connection != null) {
            whenOpen.run();
            return true;
        }
        synchronized (lock) {
            this.whenOpen = whenOpen;
        }
        if (attempt()) {
            return true;
        }
        LOG.warn("Redis store '{}': cannot connect to Redis ({}); every call fails until it can, trying again in "
                + "the background", storeName, lastFailure.getMessage());
        synchronized (lock) {
            if (!closed) {
                retries = Executors.newSingleThreadScheduledExecutor(task -> {
                    Thread thread = new Thread(task, "tollgate-redis-connect-" + storeName);
                    thread.setDaemon(true);
                    return thread;
                });
                retries.schedule(this::retry, retryMillis, TimeUnit.MILLISECONDS);
            }
        }
        return false;
    }

    /** The open connection's commands; fails at once while it has never been opened. */
    public RedisClusterAsyncCommands<String, String> commands() {
        RedisClusterAsyncCommands<String, String> open = commands;
        if (open == null) {
            throw StoreException.unavailable(RedisCalls.STORE, "connect", lastFailure != null ? lastFailure
                    : new IllegalStateException("the connection is not open yet"));
        }
        return open;
    }

    private boolean attempt() {
        StatefulConnection<String, String> opened;
        try {
            opened = connect.get();
        } catch (RuntimeException e) {
            // RedisException mostly; a client shut down meanwhile throws IllegalStateException
            lastFailure = e;
            return false;
        }
        Runnable action;
        synchronized (lock) {
            if (closed) {
                opened.close();
                return false;
            }
            opened(opened);
            action = whenOpen;
        }
        if (attempts > 0) {
            LOG.info("Redis store '{}': connected after {} failed attempts", storeName, attempts);
        }
        action.run();
        return true;
    }

    private void retry() {
        attempts++;
        // Every exception is caught: one escaping would end the retries for good.
        try {
            if (!attempt()) {
                LOG.debug("Redis store '{}': connect attempt {} failed: {}", storeName, attempts,
                        lastFailure.getMessage());
            }
        } catch (RuntimeException e) {
            LOG.warn("Redis store '{}': after connecting, getting ready failed", storeName, e);
        }
        synchronized (lock) {
            if (closed || commands != null) {
                retries.shutdown();
                return;
            }
            retryMillis = Math.min(LAST_RETRY_MILLIS, retryMillis * 2);
            retries.schedule(this::retry, retryMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void opened(StatefulConnection<String, String> opened) {
        connection = opened;
        if (opened instanceof StatefulRedisClusterConnection<String, String> clustered) {
            commands = clustered.async();
        } else {
            commands = ((StatefulRedisConnection<String, String>) opened).async();
        }
    }

    /** Stops trying to connect, and closes the connection if this store opened it. */
    @Override
    public void close() {
        StatefulConnection<String, String> open;
        synchronized (lock) {
            closed = true;
            if (retries != null) {
                retries.shutdownNow();
            }
            open = connection;
        }
        if (owned && open != null) {
            open.close();
        }
    }
}
