package io.tollgate.it;

import io.lettuce.core.RedisClient;
import io.lettuce.core.resource.ClientResources;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tollgate.Budget;
import io.tollgate.BudgetResolver;
import io.tollgate.ChargeOutcome;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.LimitUsage;
import io.tollgate.Metric;
import io.tollgate.Money;
import io.tollgate.Outcome;
import io.tollgate.RateLimit;
import io.tollgate.TollgateListener.StoreState;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.micrometer.MicrometerListener;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.resilience.ResilientStoreOptions;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** What each failure policy decides while Redis is dead, as its Javadoc promises. */
class FailurePolicyTest {

    private static final String BUDGETED = "sk-policy-budgeted";
    private static final String RATE_ONLY = "sk-policy-rate-only";
    private static final int REQUEST_MAX = 40;
    private static final int REPLICAS = 4;

    private RedisFixture redis;
    private ClientResources resources;
    private final List<RedisClient> clients = new ArrayList<>();
    private final List<ResilientGovernanceStore> stores = new ArrayList<>();

    @BeforeEach
    void start() {
        redis = RedisFixture.start();
        resources = Fixtures.resources();
    }

    @AfterEach
    void stop() {
        stores.forEach(ResilientGovernanceStore::close);
        clients.forEach(client -> Fixtures.shutdown(client, null));
        Fixtures.shutdown(null, resources);
        redis.close();
    }

    private static GovernanceConfig config() {
        WindowSpec forever = WindowSpec.unbounded();
        return GovernanceConfig.builder()
                .virtualKey(VirtualKey.builder("vk-budgeted").secret(BUDGETED)
                        .budget(Budget.lifetime(Money.parse("100")))
                        .rateLimit(RateLimit.builder().requests(REQUEST_MAX, forever).tokens(10_000, forever).build())
                        .build())
                .virtualKey(VirtualKey.builder("vk-rate-only").secret(RATE_ONLY)
                        .rateLimit(RateLimit.builder().requests(REQUEST_MAX, forever).build())
                        .build())
                .build();
    }

    /** A decorated store on the fixture's Redis, which must be alive to build it. */
    private ResilientGovernanceStore store(ResilientStoreOptions options, MicrometerListener metrics) {
        RedisClient client = Fixtures.client(redis, resources);
        clients.add(client);
        RedisGovernanceStore primary = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().commandTimeout(Duration.ofMillis(200)).build())
                .build();
        RedisKillTest.warmUp(primary);
        ResilientGovernanceStore.Builder builder = ResilientGovernanceStore.builder(primary).options(options);
        if (metrics != null) {
            builder.listener(metrics);
        }
        ResilientGovernanceStore store = builder.build();
        stores.add(store);
        return store;
    }

    private static CheckRequest request(String secret) {
        return CheckRequest.builder().virtualKey(secret).provider("openai").model("gpt-4o").build();
    }

    @Test
    void failOpenAdmitsEveryRequestWithCountersReadAsZero() {
        ResilientGovernanceStore store = store(ResilientStoreOptions.builder().policy(FailurePolicy.FAIL_OPEN).build(),
                null);
        BudgetResolver resolver = BudgetResolver.create(store, config());
        redis.kill();

        for (int i = 0; i < REQUEST_MAX * 2; i++) {
            Decision decision = resolver.check(request(BUDGETED));
            assertThat(decision.allowed()).isTrue();
            assertThat(decision.degraded()).isTrue();
            assertThat(decision.reservation()).isPresent();
            assertThat(decision.limits()).extracting(LimitUsage::used).containsOnly(0L);
            assertThat(decision.limits()).allSatisfy(usage ->
                    assertThat(usage.window().contains(System.currentTimeMillis())).isTrue());
        }
        assertThat(store.stats().buffered()).as("the request slots it admitted wait for Redis")
                .isEqualTo(REQUEST_MAX * 2);
    }

    @Test
    void failClosedDeniesWithServiceUnavailableAndAShortRetryAfter() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MicrometerListener metrics = MicrometerListener.create(registry);
        ResilientGovernanceStore store = store(ResilientStoreOptions.builder().policy(FailurePolicy.FAIL_CLOSED)
                .unavailableRetryAfter(Duration.ofSeconds(2)).build(), metrics);
        BudgetResolver resolver = BudgetResolver.create(store, config()).withListener(metrics);
        Decision before = resolver.check(request(BUDGETED));
        UsageTracker tracker = UsageTracker.create(store, config());
        redis.kill();

        for (int i = 0; i < 20; i++) {
            Decision decision = resolver.check(request(BUDGETED));
            assertThat(decision.outcome()).isEqualTo(Outcome.STORE_UNAVAILABLE);
            assertThat(decision.httpStatus()).isEqualTo(503);
            assertThat(decision.degraded()).isTrue();
            assertThat(decision.reservation()).isEmpty();
            assertThat(decision.retryAfter()).contains(Duration.ofSeconds(2));
            assertThat(decision.headers()).containsEntry("Retry-After", "2");
        }
        // usage of a request admitted before the outage is still kept
        assertThat(tracker.charge(UsageUpdate.builder().virtualKey(BUDGETED).provider("openai").model("gpt-4o")
                .tokens(10).cost(Money.parse("0.01")).requestId("before-the-outage")
                .reservation(before.reservation().orElseThrow()).build())).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(store.stats().buffered()).isEqualTo(1);
        Fixtures.await("the circuit to open", Duration.ofSeconds(10), () -> store.state() == StoreState.UNAVAILABLE);

        assertThat(registry.get("tollgate.decisions").tag("outcome", "store_unavailable").tag("degraded", "true")
                .counter().count()).isEqualTo(20);
        assertThat(registry.get("tollgate.store.circuit.state").gauge().value()).isEqualTo(2);
        assertThat(registry.get("tollgate.usage.buffer.size").gauge().value()).isEqualTo(1);
        assertThat(registry.get("tollgate.store.latency").tag("operation", "reserve").tag("result", "failure")
                .timer().count()).isPositive();
    }

    @Test
    void aPolicyPerLimitClosesBudgetsAndOpensRateLimits() {
        ResilientGovernanceStore store = store(ResilientStoreOptions.builder().policy(FailurePolicy.FAIL_OPEN)
                .policyFor(limit -> limit.metric() == Metric.COST ? FailurePolicy.FAIL_CLOSED : null).build(), null);
        BudgetResolver resolver = BudgetResolver.create(store, config());
        redis.kill();

        assertThat(resolver.check(request(BUDGETED)).outcome()).as("a budget fails closed")
                .isEqualTo(Outcome.STORE_UNAVAILABLE);
        Decision rateOnly = resolver.check(request(RATE_ONLY));
        assertThat(rateOnly.allowed()).as("a rate limit fails open").isTrue();
        assertThat(rateOnly.degraded()).isTrue();
    }

    @Test
    void localSharesOfFourReplicasAdmitAtMostTheLimitInTotal() throws Exception {
        ResilientStoreOptions options = ResilientStoreOptions.builder().policy(FailurePolicy.LOCAL)
                .expectedReplicas(REPLICAS).build();
        List<BudgetResolver> replicas = new ArrayList<>();
        for (int r = 0; r < REPLICAS; r++) {
            replicas.add(BudgetResolver.create(store(options, null), config()));
        }
        redis.kill();

        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger limited = new AtomicInteger();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        org.HdrHistogram.Recorder latencies = new org.HdrHistogram.Recorder(3);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        long started = System.nanoTime();
        for (BudgetResolver replica : replicas) {
            Thread thread = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < REQUEST_MAX; i++) {
                        long start = System.nanoTime();
                        Decision decision = replica.check(request(RATE_ONLY));
                        latencies.recordValue(Math.max(1, (System.nanoTime() - start) / 1_000));
                        assertThat(decision.degraded()).isTrue();
                        if (decision.allowed()) {
                            admitted.incrementAndGet();
                        } else {
                            assertThat(decision.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
                            assertThat(decision.deniedBy().orElseThrow().limit().max())
                                    .as("a replica's share").isEqualTo(REQUEST_MAX / REPLICAS);
                            limited.incrementAndGet();
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            });
            threads.add(thread);
            thread.start();
        }
        go.countDown();
        for (Thread thread : threads) {
            thread.join(30_000);
        }
        Histogram histogram = latencies.getIntervalHistogram();
        Summary.print("local-4-replicas-dead-redis", REPLICAS * REQUEST_MAX, Load.p99Millis(histogram),
                Load.maxMillis(histogram), 0, 0, String.format(Locale.ROOT, "limit=%d admitted=%d limited=%d "
                        + "took=%.2fs", REQUEST_MAX, admitted.get(), limited.get(), (System.nanoTime() - started) / 1e9));

        assertThat(failures).isEmpty();
        assertThat(admitted.get()).as("at most the limit in total").isLessThanOrEqualTo(REQUEST_MAX)
                .as("each replica its whole share").isEqualTo(REQUEST_MAX);
        assertThat(limited.get()).isEqualTo(REPLICAS * REQUEST_MAX - REQUEST_MAX);
    }
}
