package io.tollgate.redis;

import io.lettuce.core.AclCategory;
import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.protocol.CommandType;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.StoreException;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.ReserveResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.tollgate.redis.TestStores.failureOf;
import static io.tollgate.redis.TestStores.join;
import static io.tollgate.redis.TestStores.reserve;
import static org.assertj.core.api.Assertions.assertThat;

/** A Redis that wants a password, or an ACL user with only the rights the store needs, through the RedisURI. */
class RedisAuthTest {

    private static final String PASSWORD = "test-only-password";
    private static final Limit LIMIT = new Limit(Holder.virtualKey("vk"), Metric.TOKENS, 100,
            WindowSpec.rolling(ResetPeriod.parse("1h")));
    private static RedisFixture server;

    @BeforeAll
    static void start() {
        server = RedisFixture.start("--requirepass", PASSWORD);
        try (RedisClient admin = RedisClient.create(server.uriBuilder().withPassword(PASSWORD.toCharArray()).build());
             StatefulRedisConnection<String, String> connection = admin.connect()) {
            // keys of its prefix only; reads, writes and scripts, nothing that administers the server
            connection.sync().aclSetuser("gateway", new AclSetuserArgs().on()
                    .addPassword("gateway-password")
                    .keyPattern("gw:*")
                    .addCategory(AclCategory.READ)
                    .addCategory(AclCategory.WRITE)
                    .addCategory(AclCategory.SCRIPTING)
                    .addCategory(AclCategory.CONNECTION)
                    .addCommand(CommandType.TIME)
                    .removeCategory(AclCategory.DANGEROUS));
        }
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void worksWithThePasswordInTheUri() {
        RedisClient client = RedisClient.create(server.uriBuilder().withPassword(PASSWORD.toCharArray()).build());
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client).build()) {
            exercise(store);
        } finally {
            RedisFixture.shutdown(client);
        }
    }

    @Test
    void worksAsAnAclUserLimitedToItsPrefix() {
        RedisURI uri = server.uriBuilder().withAuthentication("gateway", "gateway-password").build();
        RedisClient client = RedisClient.create(uri);
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().keyPrefix("gw").build()).build()) {
            exercise(store);
        } finally {
            RedisFixture.shutdown(client);
        }
    }

    @Test
    void aWrongPasswordIsAStoreException() {
        RedisClient client = RedisClient.create(server.uriBuilder().withPassword("wrong".toCharArray()).build());
        try {
            Throwable failure;
            try (RedisGovernanceStore store = RedisGovernanceStore.builder(client).build()) {
                failure = failureOf(() -> store.reserve(List.of(CounterOp.take(LIMIT, 1))));
            } catch (StoreException e) {
                failure = e;
            }
            assertThat(failure).isInstanceOf(StoreException.class).hasMessageNotContaining("wrong");
        } finally {
            RedisFixture.shutdown(client);
        }
    }

    private static void exercise(RedisGovernanceStore store) {
        ReserveResult reserved = reserve(store, CounterOp.take(LIMIT, 10));
        assertThat(reserved.admitted()).isTrue();
        assertThat(join(store.charge("r1", List.of(CounterOp.add(LIMIT, 4))))).isEqualTo(ChargeResult.APPLIED);
        assertThat(store.changes().counters()).isNotEmpty();
        store.restore(store.changes().counters());
        assertThat(join(store.read(List.of(LIMIT))).get(0).used()).isEqualTo(14);
    }
}
