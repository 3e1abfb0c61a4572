package io.tollgate.redis;

import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.tollgate.CounterId;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.StoreException;
import io.tollgate.Window;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.SharedRedisClient;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.ReserveResult;
import io.tollgate.spi.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.tollgate.redis.TestStores.failureOf;
import static io.tollgate.redis.TestStores.join;
import static io.tollgate.redis.TestStores.redisTime;
import static io.tollgate.redis.TestStores.reserve;
import static io.tollgate.redis.TestStores.scan;
import static io.tollgate.redis.TestStores.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** What the contract suite does not look at: Redis time, key layout, expiry, leases across replicas, flush reads. */
class RedisGovernanceStoreTest {

    private static final WindowSpec MINUTE = WindowSpec.rolling(ResetPeriod.parse("1m"));
    @RegisterExtension
    static final SharedRedisClient REDIS = new SharedRedisClient();

    @Test
    void windowsAreLaidOutOnRedisTimeAndKeysAreReadableWithAnExpiry() {
        String prefix = uniquePrefix("layout");
        Limit limit = new Limit(Holder.virtualKey("key-42"), Metric.REQUESTS, 10, MINUTE);
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix))) {
            long before = redisTime(REDIS.sync());
            ReserveResult result = reserve(store, CounterOp.take(limit, 1));
            long after = redisTime(REDIS.sync());

            assertThat(result.admitted()).isTrue();
            assertThat(result.storeTimeMillis()).isBetween(before, after);
            Window window = result.counters().get(0).window();
            assertThat(window).isEqualTo(MINUTE.windowAt(result.storeTimeMillis()));
            String key = prefix + ":v2:c:{tg}:vk:key-42:requests:1m:" + window.startMillis();
            assertThat(REDIS.sync().get(key)).isEqualTo("1");
            long expectedTtl = window.endMillis() + Duration.ofMinutes(2).toMillis() - result.storeTimeMillis();
            assertThat(REDIS.sync().pttl(key)).isBetween(expectedTtl - 5_000, expectedTtl);
        }
    }

    @Test
    void unboundedCountersNeverExpire() {
        String prefix = uniquePrefix("lifetime");
        Limit limit = new Limit(Holder.customer("c1"), Metric.COST, 1_000, WindowSpec.unbounded());
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix))) {
            assertThat(join(store.charge("r1", List.of(CounterOp.add(limit, 7))))).isEqualTo(ChargeResult.APPLIED);
            String key = prefix + ":v2:c:{tg}:customer:c1:cost:none:0";
            assertThat(REDIS.sync().get(key)).isEqualTo("7");
            assertThat(REDIS.sync().pttl(key)).isEqualTo(-1L);
            assertThat(join(store.read(List.of(limit))).get(0).window()).isEqualTo(new Window(0, Long.MAX_VALUE));
        }
    }

    @Test
    void idsCannotBreakTheKeyLayoutAndReadBackFromTheFlushRead() {
        String prefix = uniquePrefix("escape");
        String id = "{a}:b %c d ü/秘";
        WindowSpec paris = WindowSpec.calendar(ResetPeriod.parse("1d"), ZoneId.of("Europe/Paris"));
        Limit limit = new Limit(Holder.team(id), Metric.TOKENS, 100, paris);
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix))) {
            join(store.charge("r1", List.of(CounterOp.add(limit, 5))));

            List<String> keys = scan(REDIS.sync(), prefix + ":*:c:*");
            assertThat(keys).singleElement().asString()
                    .startsWith(prefix + ":v2:c:{tg}:team:%7Ba%7D%3Ab%20%25c%20d%20%C3%BC%2F%E7%A7%98:tokens:"
                            + "cal%3A1d%40Europe%2FParis:")
                    .matches(".*:\\d+$");
            assertThat(keys.get(0).chars().filter(c -> c == '{').count()).isEqualTo(1);

            ChangeBatch changes = store.changes();
            assertThat(changes.counters()).singleElement().satisfies(snapshot -> {
                assertThat(snapshot.counter()).isEqualTo(new CounterId(Holder.team(id), Metric.TOKENS, paris.id()));
                assertThat(snapshot.value()).isEqualTo(5);
                assertThat(snapshot.window().contains(redisTime(REDIS.sync()))).isTrue();
            });
        }
    }

    @Test
    void calendarWindowsFollowRedisTimeEvenFromAClockADayOff() {
        String prefix = uniquePrefix("calendar");
        WindowSpec daily = WindowSpec.calendar(ResetPeriod.parse("1d"), ZoneOffset.UTC);
        Limit limit = new Limit(Holder.user("u1"), Metric.REQUESTS, 10, daily);
        Clock dayAhead = Clock.offset(Clock.systemUTC(), Duration.ofHours(25));
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(),
                RedisStoreOptions.builder().keyPrefix(prefix).clock(dayAhead))) {
            ReserveResult result = reserve(store, CounterOp.take(limit, 1));
            assertThat(result.counters().get(0).window().contains(result.storeTimeMillis())).isTrue();
            assertThat(result.counters().get(0).window()).isEqualTo(daily.windowAt(redisTime(REDIS.sync())));
        }
    }

    @Test
    void aClockThatJumpsTenDaysCountsInTheWindowsOfRedisTimeAndCostsOneRetryOnce() {
        String prefix = uniquePrefix("skew");
        WindowSpec daily = WindowSpec.calendar(ResetPeriod.parse("1d"), ZoneOffset.UTC);
        Limit limit = new Limit(Holder.user("u1"), Metric.REQUESTS, 10, daily);
        TestClock replicaClock = new TestClock(Instant.now());
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(),
                RedisStoreOptions.builder().keyPrefix(prefix).clock(replicaClock))) {
            replicaClock.advance(Duration.ofDays(10));
            long before = scriptCalls();
            ReserveResult first = reserve(store, CounterOp.take(limit, 1));
            long afterFirst = scriptCalls();
            reserve(store, CounterOp.take(limit, 1));
            long afterSecond = scriptCalls();

            assertThat(first.counters().get(0).window()).isEqualTo(daily.windowAt(redisTime(REDIS.sync())));
            // the guess was ten days off: Redis answered with its time, and the store learned the offset
            assertThat(afterFirst - before).isEqualTo(2);
            assertThat(afterSecond - afterFirst).isEqualTo(1);
            assertThat(scan(REDIS.sync(), prefix + ":*:c:*")).singleElement().asString()
                    .endsWith(":" + first.counters().get(0).window().startMillis());
        }
    }

    @Test
    void monthlyRollingWindowsFollowRedisTimeAndCountersAreExactNearTheLongLimit() {
        String prefix = uniquePrefix("exact");
        WindowSpec monthly = WindowSpec.rolling(ResetPeriod.parse("1M"), Instant.parse("2024-01-31T00:00:00Z"));
        Limit big = new Limit(Holder.team("t1"), Metric.COST, Long.MAX_VALUE, monthly);
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix))) {
            long nearlyFull = Long.MAX_VALUE - 1_000;
            join(store.charge("r1", List.of(CounterOp.add(big, nearlyFull - 1))));
            ReserveResult fits = reserve(store, CounterOp.take(big, 1_001));
            assertThat(fits.admitted()).isTrue();
            assertThat(fits.counters().get(0).used()).isEqualTo(nearlyFull - 1);
            ReserveResult full = reserve(store, CounterOp.take(big, 0));
            assertThat(full.admitted()).isFalse();
            assertThat(full.counters().get(0).used()).isEqualTo(Long.MAX_VALUE);
            assertThat(full.counters().get(0).window()).isEqualTo(monthly.windowAt(full.storeTimeMillis()));

            assertThat(failureOf(() -> store.charge("r2", List.of(CounterOp.add(big, 1)))))
                    .isInstanceOf(ArithmeticException.class)
                    .hasMessageContaining("overflow");
            assertThat(join(store.read(List.of(big))).get(0).used()).isEqualTo(Long.MAX_VALUE);
        }
    }

    @Test
    void aSettleGivesBackAtMostWhatTheReservedWindowHoldsAndNeverRecreatesAWindowThatIsGone() {
        String prefix = uniquePrefix("release");
        Limit limit = new Limit(Holder.virtualKey("k"), Metric.TOKENS, 1_000, MINUTE);
        Limit other = new Limit(Holder.virtualKey("k2"), Metric.TOKENS, 1_000, MINUTE);
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix))) {
            ReserveResult reserved = reserve(store, CounterOp.hold(limit, 100));
            String key = prefix + ":v2:c:{tg}:vk:k:tokens:1m:" + reserved.counters().get(0).window().startMillis();
            // something else lowered the counter meanwhile: the settle takes back what is left, never below zero
            REDIS.sync().set(key, "40", SetArgs.Builder.keepttl());
            join(store.charge("r1", CounterOps.of(List.of(limit), new long[] {30}, new long[1])
                    .settling(reserved.lease())));
            assertThat(REDIS.sync().get(key)).isEqualTo("30");

            ReserveResult gone = reserve(store, CounterOp.hold(other, 100));
            String otherKey = prefix + ":v2:c:{tg}:vk:k2:tokens:1m:" + gone.counters().get(0).window().startMillis();
            REDIS.sync().del(otherKey);
            join(store.charge("r2", CounterOps.empty().settling(gone.lease())));
            assertThat(REDIS.sync().exists(otherKey)).isZero();
            assertThat(REDIS.sync().zcard(prefix + ":v2:{tg}:leases")).isZero();
        }
    }

    @Test
    void anExpiredLeaseIsGivenBackByTheFirstCallOfItsTagFromAnyReplica() {
        String prefix = uniquePrefix("expiry");
        TestClock clock = new TestClock(Instant.parse("2030-01-01T00:00:30Z"));
        Limit held = new Limit(Holder.virtualKey("crashed"), Metric.TOKENS, 1_000, MINUTE);
        Limit busy = new Limit(Holder.virtualKey("busy"), Metric.REQUESTS, 1_000, MINUTE);
        RedisStoreOptions.Builder options = RedisStoreOptions.builder().keyPrefix(prefix).testTimeSource(clock)
                .leaseDuration(Duration.ofSeconds(10));
        try (RedisGovernanceStore crashing = TestStores.store(REDIS.client(), options);
             RedisGovernanceStore survivor = TestStores.store(REDIS.client(), options)) {
            assertThat(reserve(crashing, CounterOp.hold(held, 600)).lease()).isNotNull();
            clock.advance(Duration.ofSeconds(11));

            reserve(survivor, CounterOp.take(busy, 1));
            assertThat(join(survivor.read(List.of(held))).get(0).used()).isZero();
            assertThat(survivor.changes().counters()).anySatisfy(snapshot -> {
                assertThat(snapshot.counter()).isEqualTo(held.counterId());
                assertThat(snapshot.value()).isZero();
            });
        }
    }

    @Test
    void aReservationIsSettledFromAnotherReplica() {
        String prefix = uniquePrefix("settle");
        Limit limit = new Limit(Holder.virtualKey("k"), Metric.TOKENS, 1_000, MINUTE);
        RedisStoreOptions.Builder options = RedisStoreOptions.builder().keyPrefix(prefix);
        try (RedisGovernanceStore checking = TestStores.store(REDIS.client(), options);
             RedisGovernanceStore charging = TestStores.store(REDIS.client(), options)) {
            String lease = reserve(checking, CounterOp.hold(limit, 700)).lease();
            join(charging.charge("r1", CounterOps.of(List.of(limit), new long[] {20}, new long[1]).settling(lease)));
            assertThat(join(checking.read(List.of(limit))).get(0).used()).isEqualTo(20);
            assertThat(join(checking.extendLease(lease))).isFalse();
        }
    }

    @Test
    void flushReadsGoInBatchesAndReportEachChangedCounterOnce() {
        String prefix = uniquePrefix("batches");
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix))) {
            store.changes();
            List<CompletableFuture<ChargeResult>> charges = new ArrayList<>();
            for (int i = 0; i < 2_500; i++) {
                Limit a = new Limit(Holder.user("u" + i), Metric.TOKENS, 1_000, MINUTE);
                Limit b = new Limit(Holder.team("t" + i), Metric.TOKENS, 1_000, MINUTE);
                charges.add(store.charge("r" + i, List.of(CounterOp.add(a, i + 1), CounterOp.add(b, 1)))
                        .toCompletableFuture());
                if (charges.size() == 100) {
                    // a bounded number in flight: each call has the command timeout, queueing included
                    charges.forEach(CompletableFuture::join);
                    charges.clear();
                }
            }
            charges.forEach(CompletableFuture::join);

            ChangeBatch batch = store.changes();
            Map<String, Long> values = new HashMap<>();
            for (CounterSnapshot snapshot : batch.counters()) {
                assertThat(values.put(snapshot.counter().holder().toString(), snapshot.value())).isNull();
            }
            assertThat(values).hasSize(5_000).containsEntry("USER:u0", 1L).containsEntry("USER:u2499", 2_500L)
                    .containsEntry("TEAM:t1234", 1L);
            assertThat(store.changes().counters()).isEmpty();

            join(store.charge("again", List.of(CounterOp.add(new Limit(Holder.user("u7"), Metric.TOKENS, 1_000,
                    MINUTE), 1))));
            ChangeBatch next = store.changes();
            assertThat(next.counters()).singleElement().satisfies(s -> assertThat(s.value()).isEqualTo(9));
            assertThat(next.counters().get(0).version()).isGreaterThan(batch.counters().get(0).version());
        }
    }

    @Test
    void whatAReplicaCountedBeforeItDiedReachesTheChangesOfAnotherThroughTheSweep() {
        String prefix = uniquePrefix("sweep");
        Limit limit = new Limit(Holder.customer("c"), Metric.COST, 1_000_000, WindowSpec.unbounded());
        RedisStoreOptions.Builder options = RedisStoreOptions.builder().keyPrefix(prefix)
                .sweepInterval(Duration.ofSeconds(30));
        try (RedisGovernanceStore dying = TestStores.store(REDIS.client(), options);
             RedisGovernanceStore flushing = TestStores.store(REDIS.client(), options);
             RedisGovernanceStore other = TestStores.store(REDIS.client(), options)) {
            join(dying.charge("r1", List.of(CounterOp.add(limit, 1_234))));
            // the replica dies here: its own changes() never runs
            assertThat(flushing.changes().counters()).singleElement().satisfies(snapshot -> {
                assertThat(snapshot.counter()).isEqualTo(limit.counterId());
                assertThat(snapshot.value()).isEqualTo(1_234);
            });
            // one replica sweeps per interval
            assertThat(other.changes().counters()).isEmpty();
            assertThat(REDIS.sync().pttl(prefix + ":v2:{tg}:sweep")).isPositive();
        }
    }

    @Test
    void afterItsTagLostItsDataAFlushReadRestoresFirstAndReportsTheNewValues() {
        String prefix = uniquePrefix("reset");
        Limit limit = new Limit(Holder.user("u1"), Metric.TOKENS, 1_000, MINUTE);
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix))) {
            join(store.charge("r1", List.of(CounterOp.add(limit, 3))));
            ChangeBatch before = store.changes();
            // as after FLUSHALL, but only this store's keys: the shared server serves other tests
            REDIS.sync().del(scan(REDIS.sync(), prefix + ":*").toArray(new String[0]));
            join(store.charge("r2", List.of(CounterOp.add(limit, 4))));
            ChangeBatch after = store.changes();
            assertThat(after.counters()).singleElement().satisfies(s -> {
                assertThat(s.value()).isEqualTo(4);
                // a new version sequence starts above every version handed out before the loss
                assertThat(s.version()).isGreaterThan(before.counters().get(0).version());
            });
        }
    }

    @Test
    void readIsOneConsistentViewOfSeveralCounters() {
        String prefix = uniquePrefix("read");
        Limit a = new Limit(Holder.user("a"), Metric.TOKENS, 100, MINUTE);
        Limit b = new Limit(Holder.user("b"), Metric.REQUESTS, 100, WindowSpec.calendar(ResetPeriod.parse("1M"),
                ZoneId.of("Asia/Tokyo")));
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix))) {
            reserve(store, CounterOp.take(a, 5), CounterOp.take(b, 1));
            List<CounterState> states = join(store.read(List.of(b, a)));
            long now = redisTime(REDIS.sync());
            assertThat(states).extracting(CounterState::used).containsExactly(1L, 5L);
            assertThat(states).allSatisfy(s -> assertThat(s.window().contains(now)
                    || s.window().endMillis() - now < 1_000).isTrue());
        }
    }

    @Test
    void closingTheStoreLeavesTheUsersClientAndConnectionOpen() {
        String prefix = uniquePrefix("close");
        Limit limit = new Limit(Holder.user("u"), Metric.REQUESTS, 100, MINUTE);
        RedisGovernanceStore fromClient = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix));
        reserve(fromClient, CounterOp.take(limit, 1));
        fromClient.close();
        assertThat(failureOf(() -> fromClient.reserve(List.of(CounterOp.take(limit, 1)))))
                .isInstanceOf(StoreException.class);

        try (StatefulRedisConnection<String, String> mine = REDIS.client().connect()) {
            RedisGovernanceStore onConnection = RedisGovernanceStore.builder(mine)
                    .options(RedisStoreOptions.builder().keyPrefix(prefix).build()).build();
            assertThat(reserve(onConnection, CounterOp.take(limit, 1)).counters().get(0).used()).isEqualTo(1);
            onConnection.close();
            assertThat(mine.isOpen()).isTrue();
            assertThat(mine.sync().ping()).isEqualTo("PONG");
        }
    }

    @Test
    void storeTimeIsRedisTimeNotTheLocalClock() {
        String prefix = uniquePrefix("time");
        Limit limit = new Limit(Holder.user("u"), Metric.REQUESTS, 100, MINUTE);
        Clock hourBehind = Clock.offset(Clock.systemUTC(), Duration.ofHours(-1));
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(),
                RedisStoreOptions.builder().keyPrefix(prefix).clock(hourBehind))) {
            long redisNow = redisTime(REDIS.sync());
            assertThat(reserve(store, CounterOp.take(limit, 1)).storeTimeMillis())
                    .isCloseTo(redisNow, within(5_000L));
        }
    }

    /** EVALSHA calls the shared server counted so far (tests of this class run one at a time). */
    private static long scriptCalls() {
        for (String line : REDIS.sync().info("commandstats").split("\\r?\\n")) {
            if (line.startsWith("cmdstat_evalsha:")) {
                return Long.parseLong(line.replaceAll("^cmdstat_evalsha:calls=(\\d+),.*", "$1"));
            }
        }
        return 0;
    }
}
