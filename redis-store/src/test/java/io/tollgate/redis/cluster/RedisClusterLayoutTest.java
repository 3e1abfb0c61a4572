package io.tollgate.redis.cluster;

import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.tollgate.Budget;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Customer;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Money;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.Team;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.VirtualKey;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisPlacement;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.internal.KeySpace;
import io.tollgate.redis.testing.RedisClusterFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.tollgate.redis.cluster.ClusterTests.calls;
import static io.tollgate.redis.cluster.ClusterTests.keysOn;
import static io.tollgate.redis.cluster.ClusterTests.onNode;
import static io.tollgate.redis.cluster.ClusterTests.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;

/** Where the keys go on a three-master cluster, and how many script calls a request costs there. */
class RedisClusterLayoutTest {

    private static final int TENANTS = 1_000;
    private static final Pattern TENANT = Pattern.compile(":(?:customer|team|vk|pc):[a-z]+-(\\d+)[:%]");
    private static RedisClusterFixture cluster;
    private static RedisClusterClient client;

    @BeforeAll
    static void connect() {
        cluster = RedisClusterFixture.shared();
        client = cluster.newClient();
    }

    @AfterAll
    static void disconnect() {
        RedisClusterFixture.shutdown(client);
    }

    @Test
    void keysOfAThousandTenantsSpreadOverEveryMasterAndEachTenantKeepsToOneSlot() {
        String prefix = uniquePrefix("spread");
        GovernanceConfig config = tenants(TENANTS);
        try (RedisGovernanceStore store = store(prefix, RedisPlacement.byTenant(() -> config))) {
            BudgetResolver resolver = BudgetResolver.create(store, config);
            UsageTracker tracker = UsageTracker.create(store, config);
            for (int i = 0; i < TENANTS; i++) {
                Decision decision = resolver.check(request(i));
                assertThat(decision.allowed()).isTrue();
                tracker.charge(UsageUpdate.builder().virtualKey(secret(i)).provider("openai").model("gpt-4o")
                        .requestId("r-" + i).tokens(10).cost(Money.parse("0.01"))
                        .reservation(decision.reservation().orElseThrow()).build());
            }
        }

        Map<String, Integer> perMaster = new LinkedHashMap<>();
        Map<Integer, Set<Integer>> slotsOfTenant = new HashMap<>();
        int total = 0;
        for (RedisClusterFixture.Node master : cluster.masters()) {
            List<String> keys = keysOn(master, prefix + ":v2:c:*");
            perMaster.put(master.toString(), keys.size());
            total += keys.size();
            for (String key : keys) {
                Matcher tenant = TENANT.matcher(key);
                assertThat(tenant.find()).as(key).isTrue();
                slotsOfTenant.computeIfAbsent(Integer.parseInt(tenant.group(1)), t -> new HashSet<>())
                        .add(SlotHash.getSlot(key));
            }
        }
        System.out.println("counter keys of " + TENANTS + " tenants per master: " + perMaster + " (total " + total
                + ")");
        // every level of every tenant has requests, tokens and cost counters
        assertThat(total).isEqualTo(TENANTS * 4 * 3);
        assertThat(perMaster).hasSize(3);
        for (int keys : perMaster.values()) {
            assertThat(keys).isGreaterThanOrEqualTo(total * 15 / 100);
        }
        assertThat(slotsOfTenant).hasSize(TENANTS);
        assertThat(slotsOfTenant.values()).allSatisfy(slots -> assertThat(slots).hasSize(1));
    }

    @Test
    void aTenantsRequestIsOneScriptCallByTenantAndOnePerSlotGroupPerHolder() {
        String prefix = uniquePrefix("calls");
        GovernanceConfig config = tenants(1);
        int calls = 50;

        assertThat(scriptCalls(prefix + "-tenant", RedisPlacement.byTenant(() -> config), config, calls))
                .isEqualTo(2L * calls);

        KeySpace layout = KeySpace.cluster(prefix, RedisPlacement.perHolder());
        Set<Integer> tags = new HashSet<>();
        for (Holder holder : List.of(Holder.virtualKey("vk-0"), Holder.providerConfig("vk-0", "openai"),
                Holder.team("t-0"), Holder.customer("c-0"))) {
            tags.add(layout.tagOf(holder));
        }
        // the provider config lives with its key: three holders' slot groups at most
        assertThat(tags).hasSizeBetween(2, 3);
        assertThat(scriptCalls(prefix + "-holder", RedisPlacement.perHolder(), config, calls))
                .isEqualTo(2L * calls * tags.size());
    }

    /** EVALSHA calls on every master for {@code calls} admitted checks and their charges. */
    private long scriptCalls(String prefix, RedisPlacement placement, GovernanceConfig config, int calls) {
        try (RedisGovernanceStore store = store(prefix, placement)) {
            BudgetResolver resolver = BudgetResolver.create(store, config);
            UsageTracker tracker = UsageTracker.create(store, config);
            // the first call restores the new prefix's markers
            resolver.check(request(0));
            List<RedisClusterFixture.Node> masters = cluster.masters();
            masters.forEach(master -> onNode(master, redis -> redis.configResetstat()));
            for (int i = 0; i < calls; i++) {
                Decision decision = resolver.check(request(0));
                assertThat(decision.allowed()).isTrue();
                tracker.charge(UsageUpdate.builder().virtualKey(secret(0)).provider("openai").model("gpt-4o")
                        .requestId("r-" + i).tokens(1).reservation(decision.reservation().orElseThrow()).build());
            }
            long evalsha = 0;
            for (RedisClusterFixture.Node master : masters) {
                evalsha += calls(master, "evalsha");
                assertThat(calls(master, "eval")).isZero();
            }
            return evalsha;
        }
    }

    private static RedisGovernanceStore store(String prefix, RedisPlacement placement) {
        return RedisGovernanceStore.builder(client)
                .options(RedisStoreOptions.builder().keyPrefix(prefix).placement(placement).build()).build();
    }

    /** Tenants {@code i}: customer c-i, its team t-i, the team's key vk-i with a provider config; limits everywhere. */
    private static GovernanceConfig tenants(int count) {
        RateLimit rate = RateLimit.builder().requests(1_000, "1h").tokens(1_000_000, "1h").build();
        List<Budget> budgets = List.of(Budget.rolling(Money.parse("100"), "1d"));
        GovernanceConfig.Builder config = GovernanceConfig.builder();
        for (int i = 0; i < count; i++) {
            config.customer(new Customer("c-" + i, budgets, rate))
                    .team(new Team("t-" + i, "c-" + i, budgets, rate))
                    .virtualKey(VirtualKey.builder("vk-" + i).secret(secret(i)).team("t-" + i).rateLimit(rate)
                            .budget(budgets.get(0))
                            .provider(new ProviderConfig("openai", Set.of("*"), Set.of(), budgets, rate)).build());
        }
        return config.build();
    }

    private static String secret(int tenant) {
        return "sk-layout-" + tenant;
    }

    private static CheckRequest request(int tenant) {
        return CheckRequest.builder().virtualKey(secret(tenant)).provider("openai").model("gpt-4o").build();
    }
}
