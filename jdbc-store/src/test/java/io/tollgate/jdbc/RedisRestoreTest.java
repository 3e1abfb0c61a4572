package io.tollgate.jdbc;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.tollgate.Budget;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Money;
import io.tollgate.Outcome;
import io.tollgate.RateLimit;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.jdbc.testing.TestDatabase;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.testing.RedisFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** A real Redis loses everything (FLUSHALL); the Redis store restores its counters from the JDBC snapshots. */
class RedisRestoreTest {

    private static final String REQUEST_KEY = "sk-redis-request-limited";
    private static final String BUDGET_KEY = "sk-redis-budget-limited";

    private static TestDatabase db;
    private static RedisFixture redis;

    @BeforeAll
    static void startServers() {
        db = TestDatabase.create(RedisRestoreTest.class);
        TollgateSchema.migrate(db.dataSource());
        redis = RedisFixture.start(); // a server of its own: FLUSHALL empties the whole server
    }

    @AfterAll
    static void stopServers() {
        if (redis != null) {
            redis.close();
        }
        db.close();
    }

    @Test
    void afterFlushallTheRedisStoreRestoresFromTheSnapshotsBeforeItDecides() {
        // windows that never end, so that no window boundary can pass during the test
        GovernanceConfig config = GovernanceConfig.builder()
                .virtualKey(VirtualKey.builder("vk-requests").secret(REQUEST_KEY)
                        .rateLimit(RateLimit.builder().requests(3, WindowSpec.unbounded()).build()).build())
                .virtualKey(VirtualKey.builder("vk-budget").secret(BUDGET_KEY)
                        .budget(Budget.lifetime(Money.parse("1"))).build())
                .build();
        RedisClient client = redis.newClient();
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().snapshotSource(JdbcSnapshotSource.create(db.dataSource())).build())
                .build();
             StatefulRedisConnection<String, String> admin = client.connect()) {
            BudgetResolver resolver = BudgetResolver.create(store, config);
            for (int i = 0; i < 3; i++) {
                assertThat(resolver.check(request(REQUEST_KEY)).allowed()).isTrue();
            }
            Decision spend = resolver.check(request(BUDGET_KEY));
            UsageTracker.create(store, config).charge(UsageUpdate.builder().virtualKey(BUDGET_KEY)
                    .cost(Money.parse("1")).requestId("req-1").reservation(spend.reservation().orElseThrow()).build());
            SnapshotFlusher.builder(store, db.dataSource()).build().flushNow();
            var persisted = Counters.keyed(JdbcSnapshotSource.create(db.dataSource()).currentSnapshots(Instant.now()));

            admin.sync().flushall();

            assertThat(resolver.check(request(REQUEST_KEY)).outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
            assertThat(resolver.check(request(BUDGET_KEY)).outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);
            assertThat(Counters.keyed(store.changes().counters())).as("every counter back at its snapshot")
                    .containsAllEntriesOf(persisted);
        } finally {
            RedisFixture.shutdown(client);
        }
    }

    private static CheckRequest request(String secret) {
        return CheckRequest.builder().virtualKey(secret).provider("openai").model("gpt-4o").build();
    }
}
