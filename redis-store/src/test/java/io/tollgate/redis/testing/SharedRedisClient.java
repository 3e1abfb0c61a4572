package io.tollgate.redis.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A client of the {@linkplain RedisFixture#shared() shared test Redis} for one test class, with one synchronous
 * connection for the test's own commands. Register it as a static field with {@code @RegisterExtension}.
 *
 * <p>Not thread-safe to set up; the client and connection it hands out are.
 */
public final class SharedRedisClient implements BeforeAllCallback, AfterAllCallback {

    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;

    @Override
    public void beforeAll(ExtensionContext context) {
        client = RedisFixture.shared().newClient();
        connection = client.connect();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        connection.close();
        RedisFixture.shutdown(client);
    }

    public RedisClient client() {
        return client;
    }

    /** Commands on the connection kept for the test itself. */
    public RedisCommands<String, String> sync() {
        return connection.sync();
    }
}
