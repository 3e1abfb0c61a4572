package io.tollgate.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.Budget;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.HolderKind;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.Team;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.internal.LimitResolver.ProviderVerdict;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LimitResolverTest {

    private static final RateLimit BOTH = RateLimit.builder().requests(10, "1m").tokens(1_000, "1m").build();
    private static final List<Budget> DAILY = List.of(Budget.rolling(Money.parse("5"), "1d"));

    private static VirtualKey.Builder key(String id) {
        return VirtualKey.builder(id).secret("sk-" + id);
    }

    private static ProviderConfig openai(RateLimit rateLimit) {
        return new ProviderConfig("openai", Set.of("*"), Set.of(), List.of(), rateLimit);
    }

    private static List<String> shape(List<Limit> limits) {
        return limits.stream().map(l -> l.holder().kind() + "/" + l.metric()).toList();
    }

    private static List<Holder> holders(List<Limit> limits) {
        return limits.stream().map(Limit::holder).distinct().toList();
    }

    @Test
    void limitsComeInHierarchyOrderAndWithinAHolderRequestsTokensCostThenInFlight() {
        RateLimit all = RateLimit.builder().requests(10, "1m").tokens(1_000, "1m").inFlight(3).build();
        VirtualKey vk = key("vk").team("team").rateLimit(all).budget(DAILY.get(0))
                .provider(new ProviderConfig("openai", Set.of("*"), Set.of(), DAILY, all)).build();
        GovernanceConfig config = GovernanceConfig.builder()
                .customer(new Customer("customer", DAILY, all))
                .team(new Team("team", "customer", DAILY, all))
                .virtualKey(vk)
                .user(new User("user", DAILY, all))
                .modelConfig(ModelConfig.global("model", "gpt-4o", null, DAILY, all))
                .build();

        List<Limit> limits = new LimitResolver(config).limits(vk, "user", "openai", "gpt-4o");

        List<String> expected = new ArrayList<>();
        for (HolderKind kind : HolderKind.values()) {
            for (Metric metric : Metric.values()) {
                expected.add(kind + "/" + metric);
            }
        }
        assertThat(shape(limits)).containsExactlyElementsOf(expected);
        assertThat(holders(limits)).containsExactly(Holder.virtualKey("vk"), Holder.providerConfig("vk", "openai"),
                Holder.team("team"), Holder.customer("customer"), Holder.user("user"), Holder.modelConfig("model"));
    }

    @Test
    void twoLimitsOnOneCounterCollapseToTheStricter() {
        VirtualKey vk = key("vk")
                .budget(Budget.rolling(Money.parse("10"), "1d"))
                .budget(Budget.calendar(Money.parse("100"), "1M", ZoneOffset.UTC))
                .budget(Budget.rolling(Money.parse("5"), "24h"))
                .budget(Budget.rolling(Money.parse("7"), "1d"))
                .build();
        GovernanceConfig config = GovernanceConfig.builder().virtualKey(vk).build();

        List<Limit> limits = new LimitResolver(config).limits(vk, null, null, null);

        // "1d" and "24h" are different layouts (days vs hours), so each keeps its own counter
        assertThat(limits).extracting(l -> l.window().id() + "=" + Money.ofNanos(l.max()))
                .containsExactly("1d=$7.000000000", "cal:1M@Z=$100.000000000", "24h=$5.000000000");
    }

    @Test
    void everyMatchingModelConfigAppliesAndNoOther() {
        VirtualKey vk = key("vk").build();
        VirtualKey other = key("other").build();
        RateLimit limit = RateLimit.builder().requests(1, "1m").build();
        GovernanceConfig config = GovernanceConfig.builder()
                .virtualKey(vk).virtualKey(other)
                .user(new User("user", List.of(), null)).user(new User("someone", List.of(), null))
                .modelConfig(ModelConfig.global("exact", "gpt-4o", "openai", List.of(), limit))
                .modelConfig(ModelConfig.global("model-any-provider", "gpt-4o", null, List.of(), limit))
                .modelConfig(ModelConfig.global("any-model-provider", "*", "openai", List.of(), limit))
                .modelConfig(ModelConfig.global("any-any", "*", null, List.of(), limit))
                .modelConfig(ModelConfig.global("other-model", "gpt-3.5", "openai", List.of(), limit))
                .modelConfig(ModelConfig.global("other-provider", "gpt-4o", "anthropic", List.of(), limit))
                .modelConfig(ModelConfig.global("any-model-other-provider", "*", "anthropic", List.of(), limit))
                .modelConfig(new ModelConfig("of-key", "gpt-4o", null, ModelConfig.Scope.VIRTUAL_KEY, "vk", List.of(),
                        limit))
                .modelConfig(new ModelConfig("of-other-key", "*", null, ModelConfig.Scope.VIRTUAL_KEY, "other",
                        List.of(), limit))
                .modelConfig(new ModelConfig("of-user", "*", "openai", ModelConfig.Scope.USER, "user", List.of(),
                        limit))
                .modelConfig(new ModelConfig("of-someone", "*", null, ModelConfig.Scope.USER, "someone", List.of(),
                        limit))
                .build();
        LimitResolver resolver = new LimitResolver(config);

        assertThat(holders(resolver.limits(vk, "user", "openai", "gpt-4o"))).extracting(Holder::id)
                .containsExactly("exact", "model-any-provider", "any-model-provider", "any-any", "of-key",
                        "of-user");
        assertThat(holders(resolver.limits(null, null, "anthropic", "claude"))).extracting(Holder::id)
                .containsExactly("any-any", "any-model-other-provider");
    }

    @Test
    void missingProviderOrModelSkipsProviderAndModelLevels() {
        RateLimit limit = RateLimit.builder().requests(1, "1m").build();
        VirtualKey vk = key("vk").rateLimit(limit).provider(openai(limit)).build();
        GovernanceConfig config = GovernanceConfig.builder().virtualKey(vk)
                .user(new User("user", List.of(), limit))
                .modelConfig(ModelConfig.global("any", "*", null, List.of(), limit)).build();
        LimitResolver resolver = new LimitResolver(config);

        assertThat(shape(resolver.limits(vk, "user", null, "gpt-4o")))
                .containsExactly("VIRTUAL_KEY/REQUESTS", "USER/REQUESTS");
        assertThat(shape(resolver.limits(vk, "user", "openai", null)))
                .containsExactly("VIRTUAL_KEY/REQUESTS", "USER/REQUESTS");
        assertThat(shape(resolver.limits(vk, "user", "openai", "gpt-4o"))).containsExactly("VIRTUAL_KEY/REQUESTS",
                "PROVIDER_CONFIG/REQUESTS", "USER/REQUESTS", "MODEL_CONFIG/REQUESTS");
    }

    @Test
    void customerComesFromTheTeamOrDirectlyFromTheKey() {
        RateLimit limit = RateLimit.builder().requests(1, "1m").build();
        VirtualKey viaTeam = key("via-team").team("team").build();
        VirtualKey direct = key("direct").customer("customer").build();
        VirtualKey both = key("both").team("team").customer("customer").build();
        VirtualKey alone = key("alone").build();
        GovernanceConfig config = GovernanceConfig.builder()
                .customer(new Customer("customer", List.of(), limit))
                .team(new Team("team", "customer", List.of(), limit))
                .virtualKey(viaTeam).virtualKey(direct).virtualKey(both).virtualKey(alone).build();
        LimitResolver resolver = new LimitResolver(config);

        assertThat(holders(resolver.limits(viaTeam, null, null, null)))
                .containsExactly(Holder.team("team"), Holder.customer("customer"));
        assertThat(holders(resolver.limits(direct, null, null, null))).containsExactly(Holder.customer("customer"));
        assertThat(holders(resolver.limits(both, null, null, null)))
                .containsExactly(Holder.team("team"), Holder.customer("customer"));
        assertThat(resolver.limits(alone, null, null, null)).isEmpty();
    }

    @Test
    void unknownUserIsSkippedAndNoKeySkipsTheKeyLevels() {
        RateLimit limit = RateLimit.builder().requests(1, "1m").build();
        VirtualKey vk = key("vk").rateLimit(limit).build();
        GovernanceConfig config = GovernanceConfig.builder().virtualKey(vk)
                .user(new User("user", List.of(), limit)).build();
        LimitResolver resolver = new LimitResolver(config);

        assertThat(holders(resolver.limits(vk, "stranger", null, null))).containsExactly(Holder.virtualKey("vk"));
        assertThat(holders(resolver.limits(null, "user", null, null))).containsExactly(Holder.user("user"));
    }

    @Test
    void repeatedRequestsShareOneResolvedList() {
        VirtualKey vk = key("vk").rateLimit(BOTH).build();
        LimitResolver resolver = new LimitResolver(GovernanceConfig.builder().virtualKey(vk).build());
        List<Limit> first = resolver.limits(vk, null, "openai", "gpt-4o");
        assertThat(resolver.limits(vk, null, "openai", "gpt-4o")).isSameAs(first);
        assertThat(resolver.limits(vk, null, "openai", "o1")).isNotSameAs(first).isEqualTo(first);
    }

    @Test
    void providerAndModelRulesOfAKey() {
        VirtualKey open = key("open").build();
        VirtualKey listed = key("listed")
                .provider(new ProviderConfig("openai", Set.of("*"), Set.of("gpt-4o"), List.of(), null))
                .provider(new ProviderConfig("azure", Set.of("gpt-4o"), Set.of(), List.of(), null))
                .provider(new ProviderConfig("mistral", Set.of(), Set.of(), List.of(), null))
                .build();

        assertThat(LimitResolver.providerVerdict(open, "anything", "any")).isEqualTo(ProviderVerdict.ALLOWED);
        assertThat(LimitResolver.providerVerdict(listed, "anthropic", "claude"))
                .isEqualTo(ProviderVerdict.PROVIDER_BLOCKED);
        assertThat(LimitResolver.providerVerdict(listed, "openai", "o1")).isEqualTo(ProviderVerdict.ALLOWED);
        assertThat(LimitResolver.providerVerdict(listed, "openai", "gpt-4o")).isEqualTo(ProviderVerdict.MODEL_BLOCKED);
        assertThat(LimitResolver.providerVerdict(listed, "azure", "gpt-4o")).isEqualTo(ProviderVerdict.ALLOWED);
        assertThat(LimitResolver.providerVerdict(listed, "azure", "o1")).isEqualTo(ProviderVerdict.MODEL_BLOCKED);
        assertThat(LimitResolver.providerVerdict(listed, "mistral", "large")).isEqualTo(ProviderVerdict.MODEL_BLOCKED);
        assertThat(LimitResolver.providerVerdict(listed, "azure", null)).isEqualTo(ProviderVerdict.ALLOWED);
    }
}
