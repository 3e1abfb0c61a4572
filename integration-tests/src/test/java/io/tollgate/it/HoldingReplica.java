package io.tollgate.it;

import io.lettuce.core.RedisClient;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;

import java.time.Duration;

/**
 * A replica process of {@link LeaseCrashTest} that checks one request with a token estimate, says so, and then
 * waits to be killed before it would charge.
 *
 * <p>Arguments: Redis URI, lease duration in ms, estimated tokens.
 */
public final class HoldingReplica {

    static final String HELD = "held: ";

    private HoldingReplica() {
    }

    public static void main(String[] args) throws Exception {
        RedisClient client = RedisClient.create(args[0]);
        RedisGovernanceStore store = RedisGovernanceStore.builder(client).options(RedisStoreOptions.builder()
                .leaseDuration(Duration.ofMillis(Long.parseLong(args[1]))).build()).build();
        Decision decision = BudgetResolver.create(store, Fixtures.config()).check(CheckRequest.builder()
                .virtualKey(Fixtures.SECRET).provider(Fixtures.PROVIDER).model(Fixtures.MODEL)
                .estimatedTokens(Long.parseLong(args[2])).build());
        System.out.println(HELD + decision.allowed());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
