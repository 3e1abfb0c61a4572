package io.tollgate.jdbc;

import io.tollgate.Budget;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.ResetPeriod;
import io.tollgate.Team;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;

import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Set;

/** A configuration that uses every entity and every kind of window layout. */
final class ConfigFixtures {

    static final String SECRET_1 = "sk-tollgate-test-secret-one";
    static final String SECRET_2 = "sk-tollgate-test-secret-two";

    private ConfigFixtures() {
    }

    static Customer acme() {
        return new Customer("acme", "Acme Corp", List.of(
                Budget.calendar(Money.parse("10.50"), "1d", ZoneId.of("UTC")),
                Budget.calendar(Money.parse("$300"), "1M", ZoneId.of("Europe/Paris"))),
                RateLimit.builder().tokens(100_000, "1m").requests(600, "1m").inFlight(50).leased(true).build());
    }

    static Customer globex() {
        return new Customer("globex", null, List.of(), null);
    }

    static Team research() {
        return new Team("research", "Research", "acme", List.of(Budget.lifetime(Money.parse("5"))),
                RateLimit.builder().requests(60, WindowSpec.rolling(ResetPeriod.parse("1h30m"),
                        Instant.ofEpochMilli(1_700_000_000_123L))).build());
    }

    static Team orphans() {
        return new Team("orphans", null, List.of(), null);
    }

    static VirtualKey key1() {
        return VirtualKey.builder("vk-1")
                .name("Research key")
                .secret(SECRET_1)
                .team("research")
                .customer("acme")
                .expiresAt(Instant.parse("2031-02-03T04:05:06.123456789Z"))
                .provider(new ProviderConfig("openai", Set.of("gpt-4o", "gpt-4o-mini", "o1"), Set.of("o1"),
                        List.of(Budget.rolling(Money.parse("0.000000001"), "1.5d")),
                        RateLimit.builder().tokens(5_000, "30s").build()))
                .provider(ProviderConfig.allowAll("anthropic"))
                .provider(new ProviderConfig("mistral", Set.of(), Set.of(), List.of(), null))
                .budget(Budget.rolling(Money.parse("1"), "1w").leased(true))
                .budget(Budget.calendar(Money.parse("2"), "1Q", ZoneId.of("America/New_York")))
                .rateLimit(RateLimit.builder().requests(10, "1s").build())
                .build();
    }

    static VirtualKey key2() {
        return VirtualKey.builder("vk/2 {ü}")
                .secret(SECRET_2)
                .customer("globex")
                .active(false)
                .build();
    }

    static User alice() {
        return new User("alice@example.com", List.of(Budget.calendar(Money.parse("3"), "1Y", ZoneId.of("Asia/Tokyo"))),
                RateLimit.builder().tokens(1_000, "1h").requests(5, "10m").build());
    }

    static ModelConfig gpt4oEverywhere() {
        return ModelConfig.global("mc-gpt4o", "gpt-4o", null, List.of(Budget.rolling(Money.parse("100"), "1d")), null);
    }

    static ModelConfig openAiForKey() {
        return new ModelConfig("mc-openai-vk1", ModelConfig.ANY_MODEL, "openai", ModelConfig.Scope.VIRTUAL_KEY, "vk-1",
                List.of(), RateLimit.builder().tokens(2_000, "1m").build());
    }

    static ModelConfig o1ForAlice() {
        return new ModelConfig("mc-o1-alice", "o1", "openai", ModelConfig.Scope.USER, "alice@example.com",
                List.of(Budget.lifetime(Money.parse("1"))), null);
    }

    static GovernanceConfig full() {
        return new GovernanceConfig(List.of(acme(), globex()), List.of(research(), orphans()), List.of(key1(), key2()),
                List.of(alice()), List.of(gpt4oEverywhere(), openAiForKey(), o1ForAlice()));
    }
}
