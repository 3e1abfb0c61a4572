package io.tollgate.it;

import io.lettuce.core.RedisClient;
import io.lettuce.core.resource.ClientResources;
import io.tollgate.jdbc.TollgateSchema;
import io.tollgate.jdbc.testing.TestDatabase;
import io.tollgate.redis.testing.RedisFixture;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For each test, a fresh database with the Tollgate schema, a Redis of its own (which the test may kill) and a
 * {@linkplain Fixtures#client client} of it; a JUnit extension on an instance field:
 * <pre>{@code
 * @RegisterExtension
 * final Servers servers = new Servers();
 * }</pre>
 *
 * <p>Not thread-safe: one instance per test.
 */
final class Servers implements BeforeEachCallback, AfterEachCallback {

    private TestDatabase db;
    private RedisFixture redis;
    private ClientResources resources;
    private RedisClient client;

    @Override
    public void beforeEach(ExtensionContext context) {
        db = TestDatabase.create(context.getRequiredTestClass());
        TollgateSchema.migrate(db.dataSource());
        redis = RedisFixture.start();
        resources = Fixtures.resources();
        client = Fixtures.client(redis, resources);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Fixtures.shutdown(client, resources);
        if (redis != null) {
            redis.close();
        }
        if (db != null) {
            db.close();
        }
    }

    TestDatabase db() {
        return db;
    }

    RedisFixture redis() {
        return redis;
    }

    RedisClient client() {
        return client;
    }
}
