package io.tollgate.redis;

import io.tollgate.Budget;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.Money;
import io.tollgate.RateLimit;
import io.tollgate.ResetPeriod;
import io.tollgate.Team;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.Window;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.SharedRedisClient;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.ReserveResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tollgate.redis.TestStores.reserve;
import static io.tollgate.redis.TestStores.scan;
import static io.tollgate.redis.TestStores.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;

/** What a run leaves in Redis: old windows disappear by themselves, and no key or value holds a secret. */
class RedisKeysTest {

    @RegisterExtension
    static final SharedRedisClient REDIS = new SharedRedisClient();

    @Test
    void countersRollOverEverySecondAndTheirKeysExpireAfterTheRetention() throws InterruptedException {
        String prefix = uniquePrefix("rollover");
        WindowSpec second = WindowSpec.rolling(ResetPeriod.parse("1s"));
        Limit limit = new Limit(Holder.virtualKey("k"), Metric.REQUESTS, 3, second);
        Map<Window, Integer> admittedPerWindow = new LinkedHashMap<>();
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix)
                .expiredWindowRetention(Duration.ofMillis(300)).sweepInterval(Duration.ZERO))) {
            Window last = null;
            while (admittedPerWindow.size() < 3) {
                ReserveResult result = reserve(store, CounterOp.take(limit, 1));
                Window window = result.counters().get(0).window();
                if (!window.equals(last)) {
                    // the first call in a window sees a fresh counter
                    assertThat(result.counters().get(0).used()).isZero();
                    assertThat(result.admitted()).isTrue();
                    last = window;
                }
                admittedPerWindow.merge(window, result.admitted() ? 1 : 0, Integer::sum);
                Thread.sleep(20);
            }
            // no window admitted more than its maximum, and each started afresh
            List<Integer> counts = List.copyOf(admittedPerWindow.values());
            assertThat(counts).allSatisfy(count -> assertThat(count).isBetween(1, 3)).contains(3);
            assertThat(store.changes().counters()).isNotEmpty();

            // bounded wait for the last window's end plus the retention: Redis expires the keys itself
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (!scan(REDIS.sync(), prefix + ":*:c:*").isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(scan(REDIS.sync(), prefix + ":*:c:*")).isEmpty();
            // a counter that expired is no change to report, and nothing else of it is left behind
            assertThat(store.changes().counters()).isEmpty();
            assertThat(scan(REDIS.sync(), prefix + ":*")).containsOnly(prefix + ":v2:{tg}:epoch",
                    prefix + ":v2:{tg}:version");
        }
    }

    @Test
    void noKeyOrValueHoldsAVirtualKeySecret() {
        String prefix = uniquePrefix("secrets");
        String secret = "sk-live-9f8e7d6c5b4a-do-not-store";
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("team-1", null, List.of(Budget.calendar(Money.parse("100"), "1M", ZoneOffset.UTC)),
                        RateLimit.builder().requests(100, "1h").build()))
                .virtualKey(VirtualKey.builder("vk-1").secret(secret).team("team-1")
                        .rateLimit(RateLimit.builder().requests(60, "1m").tokens(100_000, "1m").build())
                        .build())
                .build();
        try (RedisGovernanceStore store = TestStores.store(REDIS.client(), RedisStoreOptions.builder().keyPrefix(prefix))) {
            BudgetResolver resolver = BudgetResolver.create(store, config);
            UsageTracker tracker = UsageTracker.create(store, config);
            for (int i = 0; i < 5; i++) {
                Decision decision = resolver.check(CheckRequest.builder().virtualKey(secret).provider("openai")
                        .model("gpt-4o").estimatedTokens(10).build());
                assertThat(decision.allowed()).isTrue();
                tracker.charge(UsageUpdate.builder().virtualKey(secret).provider("openai").model("gpt-4o")
                        .requestId("req-" + i).tokens(42).cost(Money.parse("0.01"))
                        .reservation(decision.reservation().orElseThrow()).build());
            }
            store.changes();

            List<String> everyKey = scan(REDIS.sync(), "*");
            assertThat(everyKey).filteredOn(key -> key.startsWith(prefix)).hasSizeGreaterThanOrEqualTo(5);
            assertThat(everyKey).noneMatch(key -> key.contains("do-not-store") || key.contains("sk-live"));
            for (String key : everyKey) {
                if (key.startsWith(prefix) && REDIS.sync().type(key).equals("string")) {
                    assertThat(REDIS.sync().get(key)).doesNotContain("sk-live");
                }
            }
            assertThat(REDIS.sync().zrange(prefix + ":v2:{tg}:leases", 0, -1)).noneMatch(m -> m.contains("sk-live"));
        }
    }
}
