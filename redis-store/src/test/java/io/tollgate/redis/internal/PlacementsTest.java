package io.tollgate.redis.internal;

import io.tollgate.CounterId;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ModelConfig;
import io.tollgate.RateLimit;
import io.tollgate.ResetPeriod;
import io.tollgate.Team;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.redis.RedisPlacement;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Which holders share a slot group on Redis Cluster, and how the cluster key layout names them. */
class PlacementsTest {

    private static final RateLimit RATE = RateLimit.builder().requests(10, "1m").build();

    @Test
    void perHolderKeepsEachHolderAloneButAProviderConfigWithItsKey() {
        RedisPlacement placement = RedisPlacement.perHolder();
        for (String id : List.of("vk-1", "a/b", "100%", "x%2Fy", "{tg}:ü")) {
            assertThat(placement.anchor(Holder.providerConfig(id, "open/ai%"))).isEqualTo(Holder.virtualKey(id));
        }
        assertThat(placement.anchor(Holder.team("t"))).isEqualTo(Holder.team("t"));
        assertThat(placement.anchor(Holder.modelConfig("gpt/4"))).isEqualTo(Holder.modelConfig("gpt/4"));
    }

    @Test
    void byTenantPutsATenantsLevelsWithItsRootAndScopedModelConfigsWithTheirScope() {
        GovernanceConfig config = GovernanceConfig.builder()
                .customer(new Customer("acme", List.of(), RATE))
                .team(new Team("team-a", "acme", List.of(), RATE))
                .team(new Team("loners", null, List.of(), RATE))
                .virtualKey(VirtualKey.builder("vk-a").secret("sk-a").team("team-a").build())
                .virtualKey(VirtualKey.builder("vk-direct").secret("sk-d").customer("acme").build())
                .virtualKey(VirtualKey.builder("vk-loner").secret("sk-l").team("loners").build())
                .virtualKey(VirtualKey.builder("vk-alone").secret("sk-x").build())
                .user(new User("u1", List.of(), RATE))
                .modelConfig(ModelConfig.global("global", "*", "openai", List.of(), RATE))
                .modelConfig(new ModelConfig("of-key", "*", null, ModelConfig.Scope.VIRTUAL_KEY, "vk-a", List.of(),
                        RATE))
                .modelConfig(new ModelConfig("of-user", "*", null, ModelConfig.Scope.USER, "u1", List.of(), RATE))
                .build();
        RedisPlacement placement = RedisPlacement.byTenant(() -> config);
        Holder acme = Holder.customer("acme");

        assertThat(placement.anchor(Holder.virtualKey("vk-a"))).isEqualTo(acme);
        assertThat(placement.anchor(Holder.providerConfig("vk-a", "openai"))).isEqualTo(acme);
        assertThat(placement.anchor(Holder.team("team-a"))).isEqualTo(acme);
        assertThat(placement.anchor(acme)).isEqualTo(acme);
        assertThat(placement.anchor(Holder.virtualKey("vk-direct"))).isEqualTo(acme);
        assertThat(placement.anchor(Holder.virtualKey("vk-loner"))).isEqualTo(Holder.team("loners"));
        assertThat(placement.anchor(Holder.team("loners"))).isEqualTo(Holder.team("loners"));
        assertThat(placement.anchor(Holder.virtualKey("vk-alone"))).isEqualTo(Holder.virtualKey("vk-alone"));
        assertThat(placement.anchor(Holder.user("u1"))).isEqualTo(Holder.user("u1"));
        assertThat(placement.anchor(Holder.modelConfig("global"))).isEqualTo(Holder.modelConfig("global"));
        assertThat(placement.anchor(Holder.modelConfig("of-key"))).isEqualTo(acme);
        assertThat(placement.anchor(Holder.modelConfig("of-user"))).isEqualTo(Holder.user("u1"));
        // holders the configuration does not know stand alone
        assertThat(placement.anchor(Holder.virtualKey("unknown"))).isEqualTo(Holder.virtualKey("unknown"));
        assertThat(placement.anchor(Holder.providerConfig("unknown", "openai"))).isEqualTo(Holder.virtualKey("unknown"));
    }

    @Test
    void aNewConfigurationIsANewVersionAndMovesTheKeysOfMovedHolders() {
        GovernanceConfig before = GovernanceConfig.builder()
                .customer(new Customer("one", List.of(), RATE)).customer(new Customer("two", List.of(), RATE))
                .team(new Team("team", "one", List.of(), RATE)).build();
        GovernanceConfig after = GovernanceConfig.builder()
                .customer(new Customer("one", List.of(), RATE)).customer(new Customer("two", List.of(), RATE))
                .team(new Team("team", "two", List.of(), RATE)).build();
        AtomicReference<GovernanceConfig> current = new AtomicReference<>(before);
        KeySpace keys = KeySpace.cluster("p", RedisPlacement.byTenant(current::get));
        PlanCache plans = new PlanCache(keys, 0);
        List<Limit> team = List.of(new Limit(Holder.team("team"), Metric.REQUESTS, 5,
                WindowSpec.rolling(ResetPeriod.parse("1m"))));

        RequestPlan first = plans.plan(team, true);
        assertThat(first.groups()).singleElement()
                .satisfies(group -> assertThat(group.tag()).isEqualTo(keys.tagOf(Holder.customer("one"))));
        assertThat(plans.plan(team, true)).isSameAs(first);
        current.set(after);
        RequestPlan second = plans.plan(team, true);
        assertThat(second).isNotSameAs(first);
        assertThat(second.groups()).singleElement()
                .satisfies(group -> assertThat(group.tag()).isEqualTo(keys.tagOf(Holder.customer("two"))));
    }

    @Test
    void clusterKeysCarryOneOfAThousandTagsAndReadBack() {
        KeySpace keys = KeySpace.cluster("app", RedisPlacement.perHolder());
        assertThat(keys.tagCount()).isEqualTo(KeySpace.CLUSTER_TAGS);
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            int tag = keys.tagOf(Holder.user("user-" + i));
            assertThat(tag).isBetween(0, KeySpace.CLUSTER_TAGS - 1);
            used.add(tag);
        }
        // ten thousand holders reach nearly every tag
        assertThat(used.size()).isGreaterThan(KeySpace.CLUSTER_TAGS * 9 / 10);

        CounterId id = new CounterId(Holder.providerConfig("k:{1}", "openai"), Metric.TOKENS, "1m");
        String key = keys.counterKey(id, 60_000);
        int tag = keys.tagOf(Holder.virtualKey("k:{1}"));
        assertThat(key).startsWith("app:v2:c:{tg" + tag + "}:pc:");
        assertThat(key.chars().filter(c -> c == '{').count()).isEqualTo(1);
        assertThat(keys.parse(key)).isEqualTo(new KeySpace.ParsedKey(id, 60_000));
        assertThat(keys.tagKeys(tag).epoch()).isEqualTo("app:v2:{tg" + tag + "}:epoch");
        assertThat(keys.tagKeys(tag).idempotency("req:1")).isEqualTo("app:v2:{tg" + tag + "}:i:req%3A1");
        // the standalone layout keeps its one tag
        assertThat(KeySpace.standalone("app").counterKey(id, 60_000)).startsWith("app:v2:c:{tg}:pc:");
    }
}
