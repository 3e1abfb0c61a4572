package io.tollgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GovernanceConfigTest {

    private static final String SECRET = "sk-live-0123456789";
    private static final RateLimit LIMIT = RateLimit.builder().requests(1, "1m").build();

    private static VirtualKey.Builder key(String id) {
        return VirtualKey.builder(id).secret("sk-" + id);
    }

    private static GovernanceConfig.Builder base() {
        return GovernanceConfig.builder()
                .customer(new Customer("acme", List.of(), null))
                .customer(new Customer("globex", List.of(), null))
                .team(new Team("team", "acme", List.of(), null))
                .user(new User("alice", List.of(), null));
    }

    @Test
    void limitsOfAHolderAreItsOwnBudgetsAndRateLimitAsACheckListsThem() {
        GovernanceConfig config = base()
                .team(new Team("capped", "acme", List.of(Budget.lifetime(Money.parse("5"))),
                        RateLimit.builder().requests(10, "1m").tokens(1_000, "1h").inFlight(3).build()))
                .virtualKey(key("vk").team("capped").rateLimit(LIMIT).build())
                .build();

        assertThat(config.limitsOf(Holder.team("capped"))).extracting(Limit::metric, Limit::max).containsExactly(
                tuple(Metric.REQUESTS, 10L),
                tuple(Metric.TOKENS, 1_000L),
                tuple(Metric.COST, Money.parse("5").nanos()),
                tuple(Metric.IN_FLIGHT, 3L));
        assertThat(config.limitsOf(Holder.virtualKey("vk"))).as("its own, not its team's")
                .extracting(Limit::metric).containsExactly(Metric.REQUESTS);
        assertThat(config.limitsOf(Holder.team("nobody"))).isEmpty();
        assertThat(config.limitsOf(Holder.customer("acme"))).isEmpty();
    }

    @Test
    void validConfigIndexesEveryEntity() {
        GovernanceConfig config = base().virtualKey(VirtualKey.builder("vk").secret(SECRET).team("team").build())
                .build();
        assertThat(config.virtualKeyByHash(VirtualKey.hashSecret(SECRET))).map(VirtualKey::id).contains("vk");
        assertThat(config.virtualKeyByHash(VirtualKey.hashSecret("other"))).isEmpty();
        assertThat(config.team("team")).map(Team::customerId).contains("acme");
        assertThat(config.customer("globex")).isPresent();
        assertThat(config.user("alice")).isPresent();
        assertThat(config.virtualKey("vk")).isPresent();
        assertThat(GovernanceConfig.empty().virtualKeys()).isEmpty();
    }

    @Test
    void teamOfAnUnknownCustomerIsRejected() {
        assertThatThrownBy(() -> base().team(new Team("t2", "initech", List.of(), null)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("teams[1].customerId: \"initech\" is not a customer");
    }

    @Test
    void keyOfAnUnknownTeamOrCustomerIsRejected() {
        assertThatThrownBy(() -> base().virtualKey(key("vk").team("nope").build()).build())
                .hasMessage("virtualKeys[0].teamId: \"nope\" is not a team");
        assertThatThrownBy(() -> base().virtualKey(key("ok").build()).virtualKey(key("vk").customer("nope").build())
                .build())
                .hasMessage("virtualKeys[1].customerId: \"nope\" is not a customer");
    }

    @Test
    void keyWhoseCustomerIsNotItsTeamsCustomerIsRejected() {
        assertThatThrownBy(() -> base().virtualKey(key("vk").team("team").customer("globex").build()).build())
                .hasMessage("virtualKeys[0].customerId: \"globex\" is not the customer of team \"team\"");
        assertThat(base().virtualKey(key("vk").team("team").customer("acme").build()).build().virtualKeys())
                .hasSize(1);
    }

    @Test
    void modelConfigScopedToAnUnknownKeyOrUserIsRejected() {
        assertThatThrownBy(() -> base().modelConfig(new ModelConfig("m", "*", null, ModelConfig.Scope.VIRTUAL_KEY,
                "ghost", List.of(), LIMIT)).build())
                .hasMessage("modelConfigs[0].scopeId: \"ghost\" is not a virtual key");
        assertThatThrownBy(() -> base().modelConfig(new ModelConfig("m", "*", null, ModelConfig.Scope.USER,
                "bob", List.of(), LIMIT)).build())
                .hasMessage("modelConfigs[0].scopeId: \"bob\" is not a user");
    }

    @Test
    void duplicateIdsAreRejectedWithTheirPath() {
        assertThatThrownBy(() -> base().customer(new Customer("acme", List.of(), null)).build())
                .hasMessage("customers[2].id: \"acme\" is used twice");
        assertThatThrownBy(() -> base().team(new Team("team", null, List.of(), null)).build())
                .hasMessage("teams[1].id: \"team\" is used twice");
        assertThatThrownBy(() -> base().virtualKey(key("vk").build()).virtualKey(key("vk").build()).build())
                .hasMessage("virtualKeys[1].id: \"vk\" is used twice");
        assertThatThrownBy(() -> base().user(new User("alice", List.of(), null)).build())
                .hasMessage("users[1].id: \"alice\" is used twice");
        assertThatThrownBy(() -> base().modelConfig(ModelConfig.global("m", "*", null, List.of(), LIMIT))
                .modelConfig(ModelConfig.global("m", "gpt-4o", null, List.of(), LIMIT)).build())
                .hasMessage("modelConfigs[1].id: \"m\" is used twice");
    }

    @Test
    void twoKeysWithOneSecretAreRejectedWithoutShowingIt() {
        assertThatThrownBy(() -> base()
                .virtualKey(VirtualKey.builder("vk1").secret(SECRET).build())
                .virtualKey(VirtualKey.builder("vk2").secret(SECRET).build()).build())
                .hasMessage("virtualKeys[1].secretHash: the same secret as virtual key vk1")
                .message().doesNotContain(SECRET).doesNotContain(VirtualKey.hashSecret(SECRET));
    }

    @Test
    void secretPassedAsItsHashIsRejectedWithoutShowingIt() {
        assertThatThrownBy(() -> VirtualKey.builder("vk").secretHash(SECRET).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("VirtualKey.secretHash of vk")
                .message().doesNotContain(SECRET);
    }

    @Test
    void entityRulesNameTheFieldAndValue() {
        assertThatThrownBy(() -> key("vk").provider(ProviderConfig.allowAll("openai"))
                .provider(ProviderConfig.allowAll("openai")).build())
                .hasMessageContaining("provider \"openai\" is listed twice");
        assertThatThrownBy(() -> ModelConfig.global("m", "*", null, List.of(), null))
                .hasMessageContaining("ModelConfig m: needs a budget or a rate limit");
        assertThatThrownBy(() -> new ModelConfig("m", "*", null, ModelConfig.Scope.GLOBAL, "vk", List.of(), LIMIT))
                .hasMessageContaining("ModelConfig.scopeId: \"vk\"");
        assertThatThrownBy(() -> new Budget(Money.ZERO, WindowSpec.unbounded()))
                .hasMessageContaining("Budget.max: $0.000000000");
        assertThatThrownBy(() -> RateLimit.builder().requests(0, "1m").build())
                .hasMessageContaining("RateLimit.requestMax: 0");
        assertThatThrownBy(() -> new Team(" ", null, List.of(), null)).hasMessageContaining("Team.id");
        assertThatThrownBy(() -> new ProviderConfig("openai", Set.of(""), Set.of(), List.of(), null))
                .hasMessageContaining("ProviderConfig.allowedModels[0]");
    }

    @Test
    void secretsNeverAppearInToString() {
        String hash = VirtualKey.hashSecret(SECRET);
        VirtualKey key = VirtualKey.builder("vk").secret(SECRET).team("team").build();
        CheckRequest request = CheckRequest.builder().virtualKey(SECRET).user("alice").provider("openai")
                .model("gpt-4o").build();
        UsageUpdate update = UsageUpdate.builder().virtualKey(SECRET).requestId("r1").tokens(5).build();
        GovernanceConfig config = base().virtualKey(key).build();

        for (Object shown : List.of(key, request, update, config)) {
            assertThat(shown.toString()).as(shown.getClass().getSimpleName())
                    .doesNotContain(SECRET).doesNotContain(hash);
        }
        assertThat(key.toString()).contains("vk");
        assertThat(request.toString()).contains("virtualKey=***", "alice");
        assertThat(update.toString()).contains("virtualKey=***", "r1");
    }
}
