package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.StoreException;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.spi.CounterOp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.tollgate.redis.TestStores.failureOf;
import static io.tollgate.redis.TestStores.reserve;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A Redis that stops answering (SIGSTOP) never hangs a caller: calls fail with StoreException after the timeout. */
class RedisTimeoutTest {

    private static final Duration TIMEOUT = Duration.ofMillis(300);
    private static final Limit LIMIT = new Limit(Holder.virtualKey("vk"), Metric.REQUESTS, 100,
            WindowSpec.rolling(ResetPeriod.parse("1h")));

    private RedisFixture server;
    private RedisClient client;

    @BeforeEach
    void start() {
        server = RedisFixture.start();
        client = RedisClient.create(server.uri());
    }

    @AfterEach
    void stop() {
        RedisFixture.shutdown(client);
        server.close();
    }

    @Test
    void callsToAPausedRedisFailWithStoreExceptionWithinTheTimeout() throws Exception {
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().commandTimeout(TIMEOUT).build()).build()) {
            assertThat(reserve(store, CounterOp.take(LIMIT, 1)).admitted()).isTrue();
            server.pause();
            try {
                // not a timing assertion: a guard that the call comes back at all, long before a hang would
                CompletableFuture<?> check = store.reserve(List.of(CounterOp.take(LIMIT, 1))).toCompletableFuture();
                assertThatThrownBy(() -> check.get(TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS))
                        .cause().isInstanceOf(StoreException.class).hasMessageContaining("did not complete within");
                assertThat(failureOf(() -> store.charge("r1", List.of(CounterOp.add(LIMIT, 1)))))
                        .isInstanceOf(StoreException.class);
                assertThatThrownBy(() -> store.changes()).isInstanceOf(StoreException.class);
            } finally {
                server.resume();
            }
            // the connection survives the pause: calls work again. The calls that timed out were sent, and Redis may
            // run them once it wakes (the store had reported them failed): at most the reservation and the charge
            assertThat(reserve(store, CounterOp.take(LIMIT, 1)).counters().get(0).used()).isBetween(1L, 3L);
        }
    }

    @Test
    void anUnreachableRedisFailsWithStoreException() {
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().commandTimeout(TIMEOUT).build()).build()) {
            assertThat(reserve(store, CounterOp.take(LIMIT, 1)).admitted()).isTrue();
            server.kill();
            assertThat(failureOf(() -> store.reserve(List.of(CounterOp.take(LIMIT, 1)))))
                    .isInstanceOf(StoreException.class);
            assertThat(failureOf(() -> store.read(List.of(LIMIT)))).isInstanceOf(StoreException.class);
        }
        try (RedisGovernanceStore builtWhileDown = RedisGovernanceStore.builder(client).build()) {
            assertThat(failureOf(() -> builtWhileDown.reserve(List.of(CounterOp.take(LIMIT, 1)))))
                    .isInstanceOf(StoreException.class).hasMessageContaining("connect");
        }
    }
}
