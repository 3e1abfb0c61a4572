package io.tollgate.spring;

import io.lettuce.core.AbstractRedisClient;

import java.util.function.Supplier;

/**
 * The Lettuce client of the application's Spring Data Redis connection factory, so that Tollgate shares the
 * application's Redis settings (host, TLS, credentials, client resources) when it has no Lettuce client bean of its
 * own. The factory opens its client when it starts; Tollgate starts it earlier if it needs the client first.
 *
 * <p>Thread-safe.
 */
public final class SpringDataRedisClient {

    private final Supplier<AbstractRedisClient> client;

    SpringDataRedisClient(Supplier<AbstractRedisClient> client) {
        this.client = client;
    }

    /** The factory's client, or null if the application has no Lettuce connection factory. */
    AbstractRedisClient client() {
        return client.get();
    }
}
