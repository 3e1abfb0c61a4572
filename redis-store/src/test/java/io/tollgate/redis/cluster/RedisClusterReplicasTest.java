package io.tollgate.redis.cluster;

import io.lettuce.core.cluster.RedisClusterClient;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Customer;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.RateLimit;
import io.tollgate.ResetPeriod;
import io.tollgate.Team;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisPlacement;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.testing.RedisClusterFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Four replicas, each with its own {@link RedisClusterClient} and store, eight threads each, against one limit on a
 * three-master cluster: exactly the limit is admitted, with the levels of a request in one slot group or several.
 */
class RedisClusterReplicasTest {

    private static final int REPLICAS = 4;
    private static final int THREADS_PER_REPLICA = 8;
    private static final int ATTEMPTS = 5_000;
    private static final int LIMIT = 1_000;

    private final List<RedisClusterClient> clients = new ArrayList<>();
    private final List<RedisGovernanceStore> stores = new ArrayList<>();
    private final String prefix = "cluster-replicas-" + UUID.randomUUID().toString().substring(0, 8);

    @AfterEach
    void disconnect() {
        stores.forEach(RedisGovernanceStore::close);
        clients.forEach(RedisClusterFixture::shutdown);
    }

    @ParameterizedTest(name = "placement {0}")
    @ValueSource(strings = {"perHolder", "byTenant"})
    void oneKeyIsAdmittedExactlyItsLimitAcrossReplicas(String placement) throws Exception {
        WindowSpec minute = minuteStartedJustBefore();
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("team", null, List.of(), null))
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-cluster-1").team("team")
                        .rateLimit(RateLimit.builder().requests(LIMIT, minute).build()).build())
                .build();
        List<BudgetResolver> replicas = replicas(config, placement);
        CheckRequest request = request("sk-cluster-1");

        assertThat(admitted(replicas, i -> request)).isEqualTo(LIMIT);
        assertThat(used(new Limit(Holder.virtualKey("vk-1"), Metric.REQUESTS, LIMIT, minute))).isEqualTo(LIMIT);
    }

    /**
     * The team's limit binds; each key's own limit lives in another slot group than the team's under the default
     * placement (so a denial by the team releases the key's reservation), and in the same one by tenant.
     */
    @ParameterizedTest(name = "placement {0}")
    @ValueSource(strings = {"perHolder", "byTenant"})
    void twoKeysOfOneTeamShareTheTeamLimitExactlyAcrossReplicas(String placement) throws Exception {
        WindowSpec minute = minuteStartedJustBefore();
        RateLimit perKey = RateLimit.builder().requests(ATTEMPTS, minute).build();
        GovernanceConfig config = GovernanceConfig.builder()
                .customer(new Customer("acme", List.of(), RateLimit.builder().requests(ATTEMPTS, minute).build()))
                .team(new Team("team", "acme", List.of(), RateLimit.builder().requests(LIMIT, minute).build()))
                .virtualKey(VirtualKey.builder("vk-a").secret("sk-cluster-a").team("team").rateLimit(perKey).build())
                .virtualKey(VirtualKey.builder("vk-b").secret("sk-cluster-b").team("team").rateLimit(perKey).build())
                .build();
        List<BudgetResolver> replicas = replicas(config, placement);
        CheckRequest a = request("sk-cluster-a");
        CheckRequest b = request("sk-cluster-b");

        assertThat(admitted(replicas, i -> i % 2 == 0 ? a : b)).isEqualTo(LIMIT);
        assertThat(used(new Limit(Holder.team("team"), Metric.REQUESTS, LIMIT, minute))).isEqualTo(LIMIT);
        assertThat(used(new Limit(Holder.customer("acme"), Metric.REQUESTS, ATTEMPTS, minute))).isEqualTo(LIMIT);
        long keyA = used(new Limit(Holder.virtualKey("vk-a"), Metric.REQUESTS, ATTEMPTS, minute));
        long keyB = used(new Limit(Holder.virtualKey("vk-b"), Metric.REQUESTS, ATTEMPTS, minute));
        assertThat(keyA + keyB).isEqualTo(LIMIT);
        assertThat(keyA).isPositive();
        assertThat(keyB).isPositive();
    }

    /** A minute window that began five seconds ago (on this machine's clock, which the nodes share). */
    private static WindowSpec minuteStartedJustBefore() {
        return WindowSpec.rolling(ResetPeriod.parse("1m"), Instant.now().minusSeconds(5));
    }

    private static CheckRequest request(String secret) {
        return CheckRequest.builder().virtualKey(secret).provider("openai").model("gpt-4o").build();
    }

    private List<BudgetResolver> replicas(GovernanceConfig config, String placement) {
        List<BudgetResolver> resolvers = new ArrayList<>();
        for (int i = 0; i < REPLICAS; i++) {
            RedisClusterClient client = RedisClusterFixture.shared().newClient();
            clients.add(client);
            RedisStoreOptions options = RedisStoreOptions.builder().keyPrefix(prefix)
                    .commandTimeout(Duration.ofSeconds(5))
                    .placement("byTenant".equals(placement) ? RedisPlacement.byTenant(() -> config)
                            : RedisPlacement.perHolder())
                    .build();
            RedisGovernanceStore store = RedisGovernanceStore.builder(client).options(options).build();
            stores.add(store);
            resolvers.add(BudgetResolver.create(store, () -> config, Clock.systemUTC()));
        }
        return resolvers;
    }

    private long used(Limit limit) {
        return stores.get(0).read(List.of(limit)).toCompletableFuture().join().get(0).used();
    }

    /** How many of {@link #ATTEMPTS} checks, spread over every replica's threads, were admitted. */
    private static int admitted(List<BudgetResolver> replicas, IntFunction<CheckRequest> requests) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(REPLICAS * THREADS_PER_REPLICA);
        try {
            CountDownLatch start = new CountDownLatch(1);
            AtomicInteger next = new AtomicInteger();
            AtomicInteger admitted = new AtomicInteger();
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < REPLICAS * THREADS_PER_REPLICA; t++) {
                BudgetResolver replica = replicas.get(t % REPLICAS);
                workers.add(pool.submit(() -> {
                    start.await();
                    for (int i = next.getAndIncrement(); i < ATTEMPTS; i = next.getAndIncrement()) {
                        Decision decision = replica.check(requests.apply(i));
                        if (decision.allowed()) {
                            admitted.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> worker : workers) {
                worker.get(2, TimeUnit.MINUTES);
            }
            return admitted.get();
        } finally {
            pool.shutdownNow();
        }
    }
}
