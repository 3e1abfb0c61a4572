package io.tollgate.jdbc;

import io.tollgate.Budget;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.Money;
import io.tollgate.Outcome;
import io.tollgate.RateLimit;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.jdbc.testing.Counters;
import io.tollgate.jdbc.testing.MigratedDatabase;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.CounterSnapshot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static io.tollgate.jdbc.testing.Counters.charge;
import static io.tollgate.jdbc.testing.Counters.limit;
import static org.assertj.core.api.Assertions.assertThat;

/** A store that lost its data is restored from the snapshots before its decisions are trusted. */
class RestoreTest {

    private static final Instant NOW = Instant.parse("2030-01-15T10:20:30Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final String REQUEST_KEY = "sk-request-limited";
    private static final String BUDGET_KEY = "sk-budget-limited";

    @RegisterExtension
    static final MigratedDatabase DB = MigratedDatabase.withEmptySnapshots();
    private static JdbcSnapshotSource source;

    @BeforeAll
    static void createSource() {
        source = JdbcSnapshotSource.create(DB.dataSource());
    }

    @Test
    void aWipedStoreRestoredFromSnapshotsHonoursTheUsageBeforeTheWipe() {
        GovernanceConfig config = GovernanceConfig.builder()
                .virtualKey(VirtualKey.builder("vk-requests").secret(REQUEST_KEY)
                        .rateLimit(RateLimit.builder().requests(3, "1h").build()).build())
                .virtualKey(VirtualKey.builder("vk-budget").secret(BUDGET_KEY)
                        .budget(Budget.rolling(Money.parse("1"), "1d")).build())
                .build();
        InMemoryGovernanceStore before = store();
        BudgetResolver resolver = BudgetResolver.create(before, config);
        for (int i = 0; i < 3; i++) {
            assertThat(resolver.check(request(REQUEST_KEY)).allowed()).isTrue();
        }
        Decision spend = resolver.check(request(BUDGET_KEY));
        assertThat(spend.allowed()).isTrue();
        UsageTracker.create(before, config).charge(UsageUpdate.builder().virtualKey(BUDGET_KEY).cost(Money.parse("1"))
                .requestId("req-1").reservation(spend.reservation().orElseThrow()).build());
        SnapshotFlusher.builder(before, DB.dataSource()).clock(CLOCK).build().flushNow();

        InMemoryGovernanceStore wiped = store();
        int restored = JdbcSnapshotSource.restore(wiped, source, NOW);

        List<CounterSnapshot> snapshots = source.currentSnapshots(NOW);
        assertThat(restored).isEqualTo(snapshots.size()).isPositive();
        assertThat(Counters.values(wiped)).isEqualTo(Counters.keyed(snapshots)).isEqualTo(Counters.values(before));
        BudgetResolver afterRestore = BudgetResolver.create(wiped, config);
        assertThat(afterRestore.check(request(REQUEST_KEY)).outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertThat(afterRestore.check(request(BUDGET_KEY)).outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);
    }

    @Test
    void aCounterAlreadyHigherThanItsSnapshotIsNotLowered() {
        Limit higher = limit(Holder.virtualKey("vk-1"), Metric.TOKENS, "1h");
        Limit lower = limit(Holder.virtualKey("vk-1"), Metric.COST, "1h");
        InMemoryGovernanceStore before = store();
        charge(before, 30, higher, lower);
        SnapshotFlusher.builder(before, DB.dataSource()).clock(CLOCK).build().flushNow();

        InMemoryGovernanceStore live = store();
        charge(live, 100, higher);
        charge(live, 10, lower);
        JdbcSnapshotSource.restore(live, source, NOW);

        Map<String, Long> values = Counters.values(live);
        assertThat(values).hasSize(2);
        assertThat(values.entrySet()).anySatisfy(e -> {
            assertThat(e.getKey()).contains("|TOKENS|");
            assertThat(e.getValue()).as("kept, not lowered to 30").isEqualTo(100);
        });
        assertThat(values.entrySet()).anySatisfy(e -> {
            assertThat(e.getKey()).contains("|COST|");
            assertThat(e.getValue()).as("raised to its snapshot").isEqualTo(30);
        });
    }

    @Test
    void onlyWindowsContainingNowAreCurrent() {
        Limit hourly = limit(Holder.user("u-1"), Metric.COST, "1h");
        Limit lifetime = limit(Holder.user("u-1"), Metric.TOKENS, "none");
        Clock twoHoursAgo = Clock.fixed(NOW.minusSeconds(7_200), ZoneOffset.UTC);
        InMemoryGovernanceStore earlier = InMemoryGovernanceStore.builder().clock(twoHoursAgo).build();
        charge(earlier, 5, hourly, lifetime);
        SnapshotFlusher.builder(earlier, DB.dataSource()).clock(twoHoursAgo).build().flushNow();
        InMemoryGovernanceStore current = store();
        charge(current, 7, hourly);
        SnapshotFlusher.builder(current, DB.dataSource()).clock(CLOCK).build().flushNow();

        List<CounterSnapshot> snapshots = source.currentSnapshots(NOW);

        assertThat(Counters.rows(DB.dataSource())).hasSize(3);
        assertThat(snapshots).hasSize(2).allSatisfy(snapshot -> assertThat(snapshot.window().contains(NOW.toEpochMilli())).isTrue());
        assertThat(snapshots).extracting(CounterSnapshot::value).containsExactlyInAnyOrder(5L, 7L);
    }

    private static InMemoryGovernanceStore store() {
        return InMemoryGovernanceStore.builder().clock(CLOCK).build();
    }

    private static CheckRequest request(String secret) {
        return CheckRequest.builder().virtualKey(secret).provider("openai").model("gpt-4o").build();
    }
}
