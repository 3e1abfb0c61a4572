package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.ConfigLoader;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.GovernanceStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.tollgate.redis.TestStores.join;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Leased admission on a server of the test's own, whose {@code INFO commandstats} counts every script call: a hot
 * key's checks are admitted from slices with a few calls, what a replica holds goes back when it idles or closes, a
 * token limit without an estimate is read again within the refill interval, and a limit marked {@code leased} in the
 * configuration is leased by a store left at its defaults.
 */
class RedisLeasedAdmissionTest {

    private static final WindowSpec HOUR = WindowSpec.rolling(ResetPeriod.parse("1h"));

    private RedisFixture server;
    private RedisClient client;
    private StatefulRedisConnection<String, String> admin;
    private final List<RedisGovernanceStore> stores = new ArrayList<>();

    @BeforeEach
    void start() {
        server = RedisFixture.start();
        client = RedisClient.create(server.uri());
        admin = client.connect();
    }

    @AfterEach
    void stop() {
        stores.forEach(RedisGovernanceStore::close);
        admin.close();
        RedisFixture.shutdown(client);
        server.close();
    }

    @Test
    void aHotKeyOfSevenLevelsIsAdmittedFromSlicesWithAFewCallsPerThousandChecks() throws Exception {
        List<Limit> levels = new ArrayList<>();
        for (int level = 0; level < 7; level++) {
            levels.add(new Limit(Holder.team("level-" + level), Metric.REQUESTS, 1_000_000_000L, HOUR));
        }
        CounterOps ops = CounterOps.of(levels, new long[] {1, 1, 1, 1, 1, 1, 1}, new long[7]);
        RedisGovernanceStore store = store(LeasedAdmission.everyLimit());
        join(store.reserve(ops));
        redis().configResetstat();

        int threads = 8;
        int perThread = 20_000;
        AtomicLong admitted = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        if (join(store.reserve(ops)).admitted()) {
                            admitted.incrementAndGet();
                        }
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
        long calls = scriptCalls();
        double perThousand = 1_000.0 * calls / admitted.get();
        System.out.printf("hot key, 7 levels, %d threads: %d admitted, %d script calls (%.2f per 1,000), %s%n",
                threads, admitted.get(), calls, perThousand, store.stats());

        assertThat(admitted.get()).isEqualTo((long) threads * perThread);
        assertThat(perThousand).as("script calls per 1,000 admitted checks").isLessThan(20);
        assertThat(store.stats().localAdmissions()).isGreaterThan(admitted.get() * 9 / 10);
        // every admission is counted at every level, and nothing more once the slices are back
        store.close();
        List<Long> used = join(plainStore().read(levels)).stream().map(state -> state.used()).toList();
        assertThat(used).containsOnly(admitted.get() + 1);
    }

    @Test
    void aReplicaHoldsAboutItsShareOfWhatIsLeftOfEveryCounterItRefillsNeverMore() throws Exception {
        // a key spent within each second, of a customer with a minute's room: the key's slices are cut short by its
        // maximum second after second, while each of its calls also refills the customer
        WindowSpec second = WindowSpec.rolling(ResetPeriod.parse("1s"));
        Limit key = new Limit(Holder.virtualKey("share"), Metric.REQUESTS, 400, second);
        Limit customer = new Limit(Holder.customer("share"), Metric.REQUESTS, 100_000,
                WindowSpec.rolling(ResetPeriod.parse("1m")));
        CounterOps ops = CounterOps.of(List.of(key, customer), new long[] {1, 1}, new long[2]);
        LeasedAdmission leases = LeasedAdmission.everyLimit().withIdleReturn(Duration.ofSeconds(30));
        List<RedisGovernanceStore> replicas = List.of(store(leases), store(leases), store(leases), store(leases));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                RedisGovernanceStore replica = replicas.get(t % 4);
                workers.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        join(replica.reserve(ops));
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(1, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        GovernanceStore reader = plainStore();
        long counted = used(reader, customer);
        for (RedisGovernanceStore replica : replicas) {
            long held = counted - used(replica, customer);
            System.out.printf("a replica holds %,d of the customer (max 100,000, %,d counted)%n", held, counted);
            assertThat(held).as("what one replica holds of the customer: about 5 %% of what is left")
                    .isLessThanOrEqualTo(2 * 5_000);
        }
    }

    @Test
    void unusedSlicesGoBackWhenTheReplicaIdlesAndWhenItCloses() throws Exception {
        Limit limit = new Limit(Holder.virtualKey("idle"), Metric.REQUESTS, 1_000_000, HOUR);
        RedisGovernanceStore idling = store(LeasedAdmission.everyLimit().withIdleReturn(Duration.ofMillis(100)));
        GovernanceStore reader = plainStore();
        int admitted = burst(idling, limit, 500);
        assertThat(idling.stats().slicesHeld()).as("slices held after a burst").isPositive();
        assertThat(used(reader, limit)).isEqualTo(admitted + idling.stats().slicesHeld());
        // what the replica holds is not what it used: its own reads leave its slices out
        assertThat(used(idling, limit)).isEqualTo(admitted);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (idling.stats().slicesHeld() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(50);
        assertThat(idling.stats().sliceReturns()).isPositive();
        assertThat(used(reader, limit)).as("after the idle return").isEqualTo(admitted);

        RedisGovernanceStore closing = store(LeasedAdmission.everyLimit());
        int more = burst(closing, limit, 500);
        assertThat(closing.stats().slicesHeld()).isPositive();
        closing.close();
        assertThat(used(reader, limit)).as("after the close").isEqualTo(admitted + more);
    }

    @Test
    void aTokenLimitWithoutAnEstimateSeesItsOwnChargesAtOnceAndOtherReplicasWithinTheRefillInterval()
            throws Exception {
        Limit tokens = new Limit(Holder.virtualKey("tokens"), Metric.TOKENS, 100, HOUR);
        RedisGovernanceStore leased = store(LeasedAdmission.everyLimit().withRefillInterval(Duration.ofMillis(50)));
        GovernanceStore other = plainStore();
        assertThat(join(leased.reserve(List.of(CounterOp.take(tokens, 0)))).admitted()).isTrue();
        assertThat(join(leased.reserve(List.of(CounterOp.take(tokens, 0)))).admitted()).isTrue();
        assertThat(leased.stats().localAdmissions()).as("the second check read no counter").isEqualTo(1);

        join(other.charge("other-replica", List.of(CounterOp.add(tokens, 100))));
        Thread.sleep(100);
        assertThat(join(leased.reserve(List.of(CounterOp.take(tokens, 0)))).admitted())
                .as("past the refill interval the spent limit is read again").isFalse();

        Limit own = new Limit(Holder.virtualKey("own-tokens"), Metric.TOKENS, 100, HOUR);
        assertThat(join(leased.reserve(List.of(CounterOp.take(own, 0)))).admitted()).isTrue();
        join(leased.charge("own", List.of(CounterOp.add(own, 100))));
        assertThat(join(leased.reserve(List.of(CounterOp.take(own, 0)))).admitted())
                .as("this replica's own charge counts at once").isFalse();
    }

    @Test
    void estimatesAreAdmittedFromASliceHeldUnderALeaseAndTheirSettlesGoBackIntoIt() throws Exception {
        Limit tokens = new Limit(Holder.virtualKey("estimates"), Metric.TOKENS, 1_000_000, HOUR);
        RedisGovernanceStore leased = store(LeasedAdmission.everyLimit());
        GovernanceStore reader = plainStore();
        int requests = 300;
        for (int i = 0; i < requests; i++) {
            var reserved = join(leased.reserve(List.of(CounterOp.hold(tokens, 100))));
            assertThat(reserved.admitted()).isTrue();
            assertThat(reserved.lease()).isNotNull();
            assertThat(join(leased.extendLease(reserved.lease()))).isTrue();
            join(leased.charge("estimate-" + i, CounterOps.of(List.of(tokens), new long[] {80}, new long[1])
                    .settling(reserved.lease())));
        }
        System.out.printf("estimates: %s%n", leased.stats());
        assertThat(leased.stats().localAdmissions()).as("estimates admitted from slices").isGreaterThan(requests / 2);
        assertThat(used(reader, tokens)).as("the charges and the slice held for the next estimates")
                .isGreaterThanOrEqualTo(80L * requests);
        leased.close();
        assertThat(used(reader, tokens)).as("once the slices are back").isEqualTo(80L * requests);
    }

    @Test
    void theSliceOfEstimatesOfAReplicaThatDiedComesBackWithItsLease() throws Exception {
        Limit tokens = new Limit(Holder.virtualKey("dead-replica"), Metric.TOKENS, 1_000_000, HOUR);
        StatefulRedisConnection<String, String> own = client.connect();
        RedisGovernanceStore dying = RedisGovernanceStore.builder(own).options(RedisStoreOptions.builder()
                .keyPrefix("leases").leaseDuration(Duration.ofMillis(800))
                .leasedAdmission(LeasedAdmission.everyLimit()).build()).build();
        GovernanceStore reader = plainStore();
        for (int i = 0; i < 100; i++) {
            assertThat(join(dying.reserve(List.of(CounterOp.hold(tokens, 50)))).admitted()).isTrue();
        }
        assertThat(dying.stats().localAdmissions()).isPositive();
        long held = used(reader, tokens);
        assertThat(held).as("every estimate is held, by its own lease or in a slice").isGreaterThanOrEqualTo(5_000);
        // the replica dies without a word: nothing extends its leases any more
        own.close();
        Thread.sleep(1_200);
        join(reader.reserve(List.of(CounterOp.take(tokens, 0))));
        assertThat(used(reader, tokens)).as("after the lease of the dead replica's slices").isZero();
        dying.close();
    }

    @Test
    void aLimitMarkedLeasedInTheConfigurationIsLeasedByAStoreAtItsDefaults() throws Exception {
        GovernanceConfig config = ConfigLoader.parseYaml("""
                virtualKeys:
                  - id: marked
                    secretHash: %s
                    rateLimit: { requestMax: 100000, requestResetPeriod: 1h, leased: true }
                  - id: unmarked
                    secretHash: %s
                    rateLimit: { requestMax: 100000, requestResetPeriod: 1h }
                """.formatted(sha256("sk-marked"), sha256("sk-unmarked")));
        assertThat(config.virtualKey("marked").orElseThrow().rateLimit().leased()).isTrue();
        RedisGovernanceStore store = store(LeasedAdmission.markedLimitsOnly());
        BudgetResolver resolver = BudgetResolver.create(store, () -> config, Clock.systemUTC());

        for (int i = 0; i < 200; i++) {
            assertThat(resolver.check(CheckRequest.builder().virtualKey("sk-unmarked").build()).allowed()).isTrue();
        }
        assertThat(store.stats().localAdmissions()).as("an unmarked limit").isZero();
        for (int i = 0; i < 200; i++) {
            assertThat(resolver.check(CheckRequest.builder().virtualKey("sk-marked").build()).allowed()).isTrue();
        }
        assertThat(store.stats().localAdmissions()).as("a marked limit").isPositive();
    }

    private int burst(GovernanceStore store, Limit limit, int checks) {
        int admitted = 0;
        for (int i = 0; i < checks; i++) {
            admitted += join(store.reserve(List.of(CounterOp.take(limit, 1)))).admitted() ? 1 : 0;
        }
        return admitted;
    }

    private static long used(GovernanceStore store, Limit limit) {
        return join(store.read(List.of(limit))).get(0).used();
    }

    private RedisGovernanceStore store(LeasedAdmission leases) {
        RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().keyPrefix("leases").leasedAdmission(leases).build()).build();
        stores.add(store);
        return store;
    }

    private GovernanceStore plainStore() {
        RedisGovernanceStore store = RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().keyPrefix("leases").build()).build();
        stores.add(store);
        return store;
    }

    private RedisCommands<String, String> redis() {
        return admin.sync();
    }

    private long scriptCalls() {
        return TestStores.scriptCalls(redis());
    }

    private static String sha256(String secret) throws Exception {
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                .digest(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return java.util.HexFormat.of().formatHex(digest);
    }
}
