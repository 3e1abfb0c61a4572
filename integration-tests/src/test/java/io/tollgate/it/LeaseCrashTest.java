package io.tollgate.it;

import io.lettuce.core.RedisClient;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.testing.RedisFixture;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A replica killed (SIGKILL) between its check and its charge: what the check held comes back when the lease
 * expires, given back by another replica's next call, and nothing stays held past the lease.
 */
class LeaseCrashTest {

    private static final long LEASE_MILLIS = 2_000;
    private static final long ESTIMATE = 9_000;

    @Test
    void aReplicaKilledMidRequestLeavesNothingHeldPastTheLease() throws Exception {
        try (RedisFixture redis = RedisFixture.start()) {
            RedisClient client = redis.newClient();
            try (RedisGovernanceStore store = RedisGovernanceStore.builder(client).options(RedisStoreOptions
                    .builder().leaseDuration(Duration.ofMillis(LEASE_MILLIS)).build()).build()) {
                BudgetResolver resolver = BudgetResolver.create(store, Fixtures.config());
                List<Limit> tokens = RedisKillTest.limitsOf(resolver).stream()
                        .filter(limit -> limit.metric() == Metric.TOKENS).toList();

                Process replica = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString(), "-cp", System.getProperty("java.class.path"), HoldingReplica.class.getName(),
                        redis.uri().toString(), Long.toString(LEASE_MILLIS), Long.toString(ESTIMATE))
                        .redirectErrorStream(true).start();
                try (BufferedReader out = new BufferedReader(new InputStreamReader(replica.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    do {
                        line = out.readLine();
                        assertThat(line).as("the replica's output ended before it checked").isNotNull();
                    } while (!line.startsWith(HoldingReplica.HELD));
                    assertThat(line).isEqualTo(HoldingReplica.HELD + "true");
                }
                long heldAt = System.nanoTime();
                assertThat(used(store, tokens)).as("held by the replica").containsOnly(ESTIMATE);

                replica.destroyForcibly().waitFor();
                assertThat(used(store, tokens)).as("still held after the kill, within the lease")
                        .containsOnly(ESTIMATE);

                Fixtures.await("the lease to be given back", Duration.ofSeconds(15), () -> {
                    // any call of the tag gives back what expired leases hold
                    resolver.check(CheckRequest.builder().virtualKey(Fixtures.SECRET).provider(Fixtures.PROVIDER)
                            .model(Fixtures.MODEL).build());
                    return used(store, tokens).stream().allMatch(used -> used == 0);
                });
                long afterCheck = (System.nanoTime() - heldAt) / 1_000_000;
                System.out.printf("lease of %d ms: %d tokens held by the killed replica, back to 0 after %d ms%n",
                        LEASE_MILLIS, ESTIMATE, afterCheck);
                assertThat(afterCheck).as("not given back before the lease ended").isGreaterThanOrEqualTo(
                        LEASE_MILLIS - 100);
            } finally {
                RedisFixture.shutdown(client);
            }
        }
    }

    private static List<Long> used(RedisGovernanceStore store, List<Limit> limits) {
        return store.read(limits).toCompletableFuture().join().stream().map(state -> state.used()).toList();
    }
}
