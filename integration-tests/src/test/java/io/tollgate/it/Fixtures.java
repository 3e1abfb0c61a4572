package io.tollgate.it;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.tollgate.Budget;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.Money;
import io.tollgate.RateLimit;
import io.tollgate.Team;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;

import java.time.Duration;
import java.util.List;

/** The configuration and clients every fault test uses. */
final class Fixtures {

    static final String SECRET = "sk-fault-tests-1";
    static final String PROVIDER = "openai";
    static final String MODEL = "gpt-4o";

    private Fixtures() {
    }

    /**
     * One virtual key in a team of a customer; limits on windows that never end (no window boundary can pass during
     * a test) and high enough never to deny, so every counter must end at exactly what was charged.
     */
    static GovernanceConfig config() {
        WindowSpec forever = WindowSpec.unbounded();
        return GovernanceConfig.builder()
                .customer(new Customer("cust-1", List.of(Budget.lifetime(Money.parse("1000000"))), null))
                .team(new Team("team-1", "cust-1", List.of(Budget.lifetime(Money.parse("1000000"))),
                        RateLimit.builder().tokens(1_000_000_000L, forever).build()))
                .virtualKey(VirtualKey.builder("vk-1").secret(SECRET).team("team-1")
                        .budget(Budget.lifetime(Money.parse("1000000")))
                        .rateLimit(RateLimit.builder().requests(1_000_000_000L, forever)
                                .tokens(1_000_000_000L, forever).build())
                        .build())
                .build();
    }

    /** Resources that reconnect every 100 ms, so that a restarted Redis is found again at once. */
    static ClientResources resources() {
        return DefaultClientResources.builder().reconnectDelay(Delay.constant(Duration.ofMillis(100))).build();
    }

    /**
     * A client as {@code ResilientGovernanceStore} recommends: commands fail at once while disconnected instead of
     * waiting for a reconnect, and a command past its timeout is cancelled, so it is not sent again on reconnect.
     */
    static RedisClient client(RedisFixture redis, ClientResources resources) {
        RedisClient client = RedisClient.create(resources, redis.uri());
        client.setOptions(ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled())
                .build());
        return client;
    }

    static void shutdown(RedisClient client, ClientResources resources) {
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        if (resources != null) {
            resources.shutdown(0, 2, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** Waits until {@code condition} holds, polling; fails with {@code what} after {@code timeout}. */
    static long await(String what, Duration timeout, java.util.function.BooleanSupplier condition) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            sleep(10);
        }
        return System.nanoTime() - start;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
