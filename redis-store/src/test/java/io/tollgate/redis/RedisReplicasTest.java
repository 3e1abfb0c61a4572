package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Customer;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.LimitUsage;
import io.tollgate.Metric;
import io.tollgate.RateLimit;
import io.tollgate.ResetPeriod;
import io.tollgate.Team;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.Window;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.tollgate.redis.TestStores.join;
import static io.tollgate.redis.TestStores.redisTime;
import static io.tollgate.redis.TestStores.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Four replicas, each with its own {@link RedisClient}, connection and store, eight threads each, against one limit:
 * never more admitted than the limit allows.
 */
class RedisReplicasTest {

    private static final int REPLICAS = 4;
    private static final int THREADS_PER_REPLICA = 8;
    private static final int ATTEMPTS = 5_000;
    private static final int LIMIT = 1_000;

    private final List<RedisClient> clients = new ArrayList<>();
    final List<RedisGovernanceStore> stores = new ArrayList<>();
    private RedisClient adminClient;
    private StatefulRedisConnection<String, String> admin;
    private RedisCommands<String, String> redis;
    private String prefix;

    @BeforeEach
    void connect() {
        adminClient = RedisFixture.shared().newClient();
        admin = adminClient.connect();
        redis = admin.sync();
        prefix = uniquePrefix("replicas");
    }

    @AfterEach
    void disconnect() {
        stores.forEach(RedisGovernanceStore::close);
        clients.forEach(RedisFixture::shutdown);
        admin.close();
        RedisFixture.shutdown(adminClient);
    }

    @Test
    void oneKeyIsAdmittedExactlyItsLimitAcrossReplicas() throws Exception {
        WindowSpec minute = minuteStartedJustBefore(redisTime(redis));
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("team", null, List.of(), null))
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-replicas-1").team("team")
                        .rateLimit(RateLimit.builder().requests(LIMIT, minute).build()).build())
                .build();
        List<BudgetResolver> replicas = replicas(config, i -> Clock.systemUTC());
        CheckRequest request = request("sk-replicas-1");

        assertThat(admitted(replicas, i -> request, ConcurrentHashMap.newKeySet())).isEqualTo(LIMIT);
        demandStopped();
        assertThat(used(new Limit(Holder.virtualKey("vk-1"), Metric.REQUESTS, LIMIT, minute))).isEqualTo(LIMIT);
    }

    @Test
    void twoKeysOfOneTeamShareTheTeamLimitExactlyAcrossReplicas() throws Exception {
        WindowSpec minute = minuteStartedJustBefore(redisTime(redis));
        RateLimit perKey = RateLimit.builder().requests(ATTEMPTS, minute).build();
        GovernanceConfig config = GovernanceConfig.builder()
                .customer(new Customer("acme", List.of(), null))
                .team(new Team("team", "acme", List.of(), RateLimit.builder().requests(LIMIT, minute).build()))
                .virtualKey(VirtualKey.builder("vk-a").secret("sk-replicas-a").team("team").rateLimit(perKey).build())
                .virtualKey(VirtualKey.builder("vk-b").secret("sk-replicas-b").team("team").rateLimit(perKey).build())
                .build();
        List<BudgetResolver> replicas = replicas(config, i -> Clock.systemUTC());
        CheckRequest a = request("sk-replicas-a");
        CheckRequest b = request("sk-replicas-b");

        assertThat(admitted(replicas, i -> i % 2 == 0 ? a : b, ConcurrentHashMap.newKeySet())).isEqualTo(LIMIT);
        demandStopped();
        assertThat(used(new Limit(Holder.team("team"), Metric.REQUESTS, LIMIT, minute))).isEqualTo(LIMIT);
        long keyA = used(new Limit(Holder.virtualKey("vk-a"), Metric.REQUESTS, ATTEMPTS, minute));
        long keyB = used(new Limit(Holder.virtualKey("vk-b"), Metric.REQUESTS, ATTEMPTS, minute));
        assertThat(keyA + keyB).isEqualTo(LIMIT);
        assertThat(keyA).isPositive();
        assertThat(keyB).isPositive();
    }

    @Test
    void replicaClocksAnHourOffEitherWayChangeNothing() throws Exception {
        long redisNow = redisTime(redis);
        WindowSpec minute = minuteStartedJustBefore(redisNow);
        WindowSpec day = WindowSpec.calendar(ResetPeriod.parse("1d"), ZoneOffset.UTC);
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("team", null, List.of(), RateLimit.builder().requests(10 * ATTEMPTS, day).build()))
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-replicas-skew").team("team")
                        .rateLimit(RateLimit.builder().requests(LIMIT, minute).build()).build())
                .build();
        List<BudgetResolver> replicas = replicas(config,
                i -> Clock.offset(Clock.systemUTC(), Duration.ofHours(i % 2 == 0 ? 1 : -1)));
        CheckRequest request = request("sk-replicas-skew");
        Set<Window> windows = ConcurrentHashMap.newKeySet();

        assertThat(admitted(replicas, i -> request, windows)).isEqualTo(LIMIT);
        demandStopped();
        assertThat(used(new Limit(Holder.virtualKey("vk-1"), Metric.REQUESTS, LIMIT, minute))).isEqualTo(LIMIT);
        // the windows are the ones holding Redis TIME, not the replicas' clocks an hour away
        long later = redisTime(redis);
        assertThat(windows).containsExactlyInAnyOrder(minute.windowAt(redisNow), day.windowAt(redisNow));
        assertThat(windows).allSatisfy(w -> assertThat(w.contains(later)).isTrue());
        Window minuteWindow = minute.windowAt(redisNow);
        assertThat(minuteWindow.contains(later + Duration.ofHours(1).toMillis())).isFalse();
        assertThat(minuteWindow.contains(later - Duration.ofHours(1).toMillis())).isFalse();
        for (RedisGovernanceStore store : stores) {
            long storeTime = TestStores.reserve(store).storeTimeMillis();
            assertThat(storeTime).isBetween(later, redisTime(redis));
        }
    }

    @Test
    void requestsInFlightNeverPassTheirLimitAcrossSixteenThreadsOfFourReplicas() throws Exception {
        int max = 12;
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("team", null, List.of(), RateLimit.builder().inFlight(max).build()))
                .virtualKey(VirtualKey.builder("vk-1").secret("sk-replicas-flight").team("team")
                        .rateLimit(RateLimit.builder().inFlight(max + 4).build()).build())
                .build();
        List<BudgetResolver> replicas = replicas(config, i -> Clock.systemUTC());
        List<UsageTracker> trackers = stores.stream().map(store -> UsageTracker.create(store, config)).toList();
        CheckRequest request = request("sk-replicas-flight");
        int threads = REPLICAS * 16;
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int replica = t % REPLICAS;
                workers.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < ATTEMPTS; i = next.getAndIncrement()) {
                        Decision decision = replicas.get(replica).check(request);
                        if (!decision.allowed()) {
                            continue;
                        }
                        admitted.incrementAndGet();
                        // measured between the admission and the charge, inside the time Redis held the slot
                        most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                        Thread.sleep(1);
                        inFlight.decrementAndGet();
                        trackers.get(replica).charge(UsageUpdate.builder().virtualKey("sk-replicas-flight")
                                .provider("openai").model("gpt-4o").requestId("flight-" + i).tokens(1)
                                .reservation(decision.reservation().orElseThrow()).build());
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("in flight across %d replicas x 16 threads: %d admitted of %d, at most %d at once "
                + "(limit %d)%n", REPLICAS, admitted.get(), ATTEMPTS, most.get(), max);

        assertThat(most.get()).as("requests in flight at once, as the test saw them").isBetween(2, max);
        assertThat(admitted.get()).isGreaterThan(ATTEMPTS / 10);
        Limit team = new Limit(Holder.team("team"), Metric.IN_FLIGHT, max, WindowSpec.unbounded());
        Limit key = new Limit(Holder.virtualKey("vk-1"), Metric.IN_FLIGHT, max + 4, WindowSpec.unbounded());
        assertThat(used(team)).as("every slot given back").isZero();
        assertThat(used(key)).isZero();
    }

    /** The options of each replica's store, for a variant of the suite to change. */
    RedisStoreOptions.Builder options(RedisStoreOptions.Builder options) {
        return options;
    }

    /** Called once the checks ended and before the counters are read: a variant may wait for what it needs. */
    void demandStopped() throws InterruptedException {
    }

    /** A minute window that began five seconds ago, so that the test runs inside one window. */
    private static WindowSpec minuteStartedJustBefore(long redisNow) {
        return WindowSpec.rolling(ResetPeriod.parse("1m"), Instant.ofEpochMilli(redisNow - 5_000));
    }

    private static CheckRequest request(String secret) {
        return CheckRequest.builder().virtualKey(secret).provider("openai").model("gpt-4o").build();
    }

    private List<BudgetResolver> replicas(GovernanceConfig config, java.util.function.IntFunction<Clock> clocks) {
        List<BudgetResolver> resolvers = new ArrayList<>();
        for (int i = 0; i < REPLICAS; i++) {
            RedisClient client = RedisFixture.shared().newClient();
            clients.add(client);
            Clock clock = clocks.apply(i);
            RedisGovernanceStore store = TestStores.store(client, options(RedisStoreOptions.builder()
                    .keyPrefix(prefix).clock(clock).commandTimeout(Duration.ofSeconds(5))));
            stores.add(store);
            resolvers.add(BudgetResolver.create(store, () -> config, clock));
        }
        return resolvers;
    }

    private long used(Limit limit) {
        return join(stores.get(0).read(List.of(limit))).get(0).used();
    }

    /** How many of {@link #ATTEMPTS} checks, spread over every replica's threads, were admitted. */
    private static int admitted(List<BudgetResolver> replicas, java.util.function.IntFunction<CheckRequest> requests,
                                Set<Window> windows) throws Exception {
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
                        for (LimitUsage usage : decision.limits()) {
                            windows.add(usage.window());
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
