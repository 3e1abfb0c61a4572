package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Outcome;
import io.tollgate.RateLimit;
import io.tollgate.ResetPeriod;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.spi.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client far past its limit costs Redis next to nothing: each replica remembers the spent counter for its window.
 * On a server of the test's own, whose {@code INFO commandstats} counts every script call.
 */
class RedisDenialCacheTest {

    private static final WindowSpec HOUR = WindowSpec.rolling(ResetPeriod.parse("1h"));
    private static final Instant START = Instant.parse("2030-06-01T10:15:00Z");
    private static final String SECRET = "sk-denial-cache";

    private final TestClock clock = new TestClock(START);
    private RedisFixture server;
    private RedisClient client;
    private StatefulRedisConnection<String, String> admin;
    private final List<RedisGovernanceStore> replicas = new ArrayList<>();

    @BeforeEach
    void start() {
        server = RedisFixture.start();
        client = RedisClient.create(server.uri());
        admin = client.connect();
    }

    @AfterEach
    void stop() {
        replicas.forEach(RedisGovernanceStore::close);
        admin.close();
        RedisFixture.shutdown(client);
        server.close();
    }

    @Test
    void tenThousandChecksOnASpentLimitFromFourReplicasCostAHandfulOfCallsUntilTheWindowRollsOver() throws Exception {
        GovernanceConfig config = config(RateLimit.builder().requests(5, HOUR).build());
        List<BudgetResolver> resolvers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            resolvers.add(BudgetResolver.create(replica(Duration.ofSeconds(1)), () -> config, clock));
        }
        redis().configResetstat();

        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Integer>> admitted = new ArrayList<>();
        try {
            for (BudgetResolver resolver : resolvers) {
                admitted.add(pool.submit(() -> {
                    int allowed = 0;
                    for (int i = 0; i < 2_500; i++) {
                        allowed += resolver.check(request()).allowed() ? 1 : 0;
                    }
                    return allowed;
                }));
            }
            int total = 0;
            for (Future<Integer> count : admitted) {
                total += count.get(2, TimeUnit.MINUTES);
            }
            assertThat(total).isEqualTo(5);
        } finally {
            pool.shutdownNow();
        }
        long calls = scriptCalls();
        // five admissions, then each replica learns the denial once (a few more while the first is on its way)
        assertThat(calls).isBetween(9L, 20L);
        long cached = replicas.stream().mapToLong(store -> store.stats().cachedDenials()).sum();
        assertThat(cached).isEqualTo(10_000 - calls);

        Decision denied = resolvers.get(0).check(request());
        assertThat(denied.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertThat(denied.deniedBy().orElseThrow().used()).isEqualTo(5);
        assertThat(denied.retryAfter()).contains(Duration.ofMinutes(45));

        clock.set(Instant.parse("2030-06-01T11:00:00Z"));
        assertThat(resolvers).allSatisfy(resolver -> assertThat(resolver.check(request()).allowed()).isTrue());
    }

    @Test
    void aCounterThatCanGoDownIsAskedAgainAfterTheRecheckAndAtOnceAfterAGiveBackThroughTheReplica() {
        GovernanceConfig config = config(RateLimit.builder().tokens(1_000, HOUR).build());
        RedisGovernanceStore first = replica(Duration.ofSeconds(2));
        RedisGovernanceStore second = replica(Duration.ofSeconds(2));
        BudgetResolver checking = BudgetResolver.create(first, () -> config, clock);
        BudgetResolver other = BudgetResolver.create(second, () -> config, clock);
        UsageTracker tracker = UsageTracker.create(second, config);

        Decision held = other.check(request(900));
        assertThat(checking.check(request(200)).outcome()).isEqualTo(Outcome.TOKEN_LIMITED);
        // the other replica settles: 100 used, 800 given back; this one still remembers the denial
        tracker.charge(UsageUpdate.builder().virtualKey(SECRET).tokens(100).requestId("r1")
                .reservation(held.reservation().orElseThrow()).build());
        long before = scriptCalls();
        assertThat(checking.check(request(200)).outcome()).isEqualTo(Outcome.TOKEN_LIMITED);
        assertThat(scriptCalls()).as("denied from memory").isEqualTo(before);

        clock.advance(Duration.ofSeconds(2));
        assertThat(checking.check(request(200)).allowed()).as("asked again after the recheck").isTrue();

        // the replica that gives back forgets at once
        Decision spent = other.check(request(700));
        assertThat(other.check(request(1)).outcome()).isEqualTo(Outcome.TOKEN_LIMITED);
        tracker.charge(UsageUpdate.builder().virtualKey(SECRET).tokens(1).requestId("r2")
                .reservation(spent.reservation().orElseThrow()).build());
        assertThat(other.check(request(1)).allowed()).isTrue();
    }

    @Test
    void aDataLossForgetsEveryDenialOnceTheReplicaFindsIt() {
        GovernanceConfig config = config(RateLimit.builder().requests(2, HOUR).build());
        RedisGovernanceStore store = replica(Duration.ofSeconds(1));
        BudgetResolver resolver = BudgetResolver.create(store, () -> config, clock);
        resolver.check(request());
        resolver.check(request());
        assertThat(resolver.check(request()).outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        store.changes();

        // an emptied Redis without snapshots starts from zero: the remembered denial is false from now on
        redis().flushall();
        assertThat(resolver.check(request()).outcome()).as("until the replica finds the loss")
                .isEqualTo(Outcome.REQUEST_LIMITED);
        // its flusher's next read finds it (as would any call that reaches Redis)
        store.changes();
        assertThat(resolver.check(request()).allowed()).isTrue();
    }

    @Test
    void aShadowedLimitIsNeverDeniedFromMemoryWhileTheSameLimitEnforcedOnTheSameReplicaIs() {
        GovernanceConfig config = config(RateLimit.builder().requests(2, HOUR).build());
        RedisGovernanceStore store = replica(Duration.ofSeconds(1));
        BudgetResolver enforced = BudgetResolver.create(store, () -> config, clock);
        BudgetResolver shadow = BudgetResolver.create(store, () -> config, clock).withShadow();
        enforced.check(request());
        enforced.check(request());
        assertThat(enforced.check(request()).outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        long before = scriptCalls();
        assertThat(enforced.check(request()).outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertThat(scriptCalls()).as("the enforced limit denied from memory").isEqualTo(before);

        // sent with an unreachable maximum, the shadowed limit has a plan of its own that never remembers a denial
        for (long used = 2; used < 5; used++) {
            Decision decision = shadow.check(request());
            assertThat(decision.allowed()).isTrue();
            assertThat(decision.shadowOutcome()).contains(Outcome.REQUEST_LIMITED);
            assertThat(decision.shadowDeniedBy().orElseThrow().used()).isEqualTo(used);
        }
        assertThat(scriptCalls()).as("each shadowed check counted in Redis").isEqualTo(before + 3);
    }

    private RedisGovernanceStore replica(Duration recheck) {
        RedisGovernanceStore store = RedisGovernanceStore.builder(client).options(RedisStoreOptions.builder()
                .testTimeSource(clock).denialRecheck(recheck).commandTimeout(Duration.ofSeconds(5)).build()).build();
        replicas.add(store);
        return store;
    }

    private static GovernanceConfig config(RateLimit rateLimit) {
        return GovernanceConfig.builder()
                .virtualKey(VirtualKey.builder("vk-denial").secret(SECRET).rateLimit(rateLimit).build())
                .build();
    }

    private static CheckRequest request() {
        return CheckRequest.builder().virtualKey(SECRET).build();
    }

    private static CheckRequest request(long estimatedTokens) {
        return CheckRequest.builder().virtualKey(SECRET).estimatedTokens(estimatedTokens).build();
    }

    private RedisCommands<String, String> redis() {
        return admin.sync();
    }

    private long scriptCalls() {
        return TestStores.scriptCalls(redis());
    }
}
