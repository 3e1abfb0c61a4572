package io.tollgate.jdbc;

import io.tollgate.Budget;
import io.tollgate.ConfigException;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.Team;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.jdbc.testing.Rows;
import io.tollgate.jdbc.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.tollgate.jdbc.ConfigFixtures.SECRET_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JdbcConfigStoreTest {

    private static TestDatabase db;
    private static JdbcConfigStore store;

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create(JdbcConfigStoreTest.class);
        store = JdbcConfigStore.create(db.dataSource());
    }

    @AfterAll
    static void dropDatabase() {
        db.close();
    }

    @BeforeEach
    void emptyConfig() {
        store.replaceAll(GovernanceConfig.empty());
    }

    @Test
    void replaceAllThenLoadGivesTheSameConfig() {
        long before = store.version();

        assertThat(store.replaceAll(ConfigFixtures.full())).isTrue();

        assertThat(store.load()).isEqualTo(ConfigFixtures.full());
        assertThat(store.version()).isEqualTo(before + 1);
        assertThat(store.replaceAll(ConfigFixtures.full())).as("nothing changed").isFalse();
        assertThat(store.version()).isEqualTo(before + 1);
    }

    @Test
    void everyEntityIsPutLoadedUpdatedAndDeleted() {
        store.putCustomer(ConfigFixtures.acme());
        store.putCustomer(ConfigFixtures.globex());
        store.putTeam(ConfigFixtures.research());
        store.putTeam(ConfigFixtures.orphans());
        store.putVirtualKey(ConfigFixtures.key1());
        store.putVirtualKey(ConfigFixtures.key2());
        store.putUser(ConfigFixtures.alice());
        store.putModelConfig(ConfigFixtures.gpt4oEverywhere());
        store.putModelConfig(ConfigFixtures.openAiForKey());
        store.putModelConfig(ConfigFixtures.o1ForAlice());
        assertThat(store.load()).isEqualTo(ConfigFixtures.full());

        Customer acme = new Customer("acme", "Acme Inc", List.of(Budget.lifetime(Money.parse("99"))), null);
        Team research = new Team("research", "R&D", "acme", List.of(), RateLimit.builder().tokens(7, "1d").build());
        VirtualKey key1 = VirtualKey.builder("vk-1").secret("sk-rotated").team("research").customer(null)
                .provider(new ProviderConfig("anthropic", Set.of("claude"), Set.of(), List.of(), null))
                .build();
        User alice = new User("alice@example.com", List.of(), RateLimit.builder().requests(1, "1s").inFlight(4)
                .build());
        ModelConfig o1 = new ModelConfig("mc-o1-alice", "o1-pro", null, ModelConfig.Scope.USER, "alice@example.com",
                List.of(), RateLimit.builder().requests(2, "1m").build());
        assertThat(store.putCustomer(acme)).isTrue();
        assertThat(store.putTeam(research)).isTrue();
        assertThat(store.putVirtualKey(key1)).isTrue();
        assertThat(store.putUser(alice)).isTrue();
        assertThat(store.putModelConfig(o1)).isTrue();
        GovernanceConfig updated = new GovernanceConfig(List.of(acme, ConfigFixtures.globex()),
                List.of(research, ConfigFixtures.orphans()), List.of(key1, ConfigFixtures.key2()), List.of(alice),
                List.of(ConfigFixtures.gpt4oEverywhere(), ConfigFixtures.openAiForKey(), o1));
        assertThat(store.load()).as("updates keep each entity in its place").isEqualTo(updated);

        long version = store.version();
        assertThat(store.putCustomer(acme)).as("an identical put").isFalse();
        assertThat(store.version()).isEqualTo(version);

        assertThat(store.deleteModelConfig("mc-o1-alice")).isTrue();
        assertThat(store.deleteModelConfig("mc-openai-vk1")).isTrue();
        assertThat(store.deleteModelConfig("mc-gpt4o")).isTrue();
        assertThat(store.deleteUser("alice@example.com")).isTrue();
        assertThat(store.deleteVirtualKey("vk-1")).isTrue();
        assertThat(store.deleteVirtualKey("vk/2 {ü}")).isTrue();
        assertThat(store.deleteTeam("research")).isTrue();
        assertThat(store.deleteTeam("orphans")).isTrue();
        assertThat(store.deleteCustomer("acme")).isTrue();
        assertThat(store.deleteCustomer("globex")).isTrue();
        assertThat(store.load()).isEqualTo(GovernanceConfig.empty());
        assertThat(Rows.config(db.dataSource())).allSatisfy((table, rows) -> {
            if (!table.equals("tollgate_config_version")) {
                assertThat(rows).as(table).isEmpty();
            }
        });

        assertThat(store.deleteCustomer("acme")).as("already gone").isFalse();
    }

    @Test
    void idsDifferingOnlyInCaseOrTrailingSpaceAreDistinct() {
        Customer lower = new Customer("a", List.of(), null);
        Customer upper = new Customer("A", List.of(), null);
        Customer spaced = new Customer("a ", List.of(), null);

        store.putCustomer(lower);
        store.putCustomer(upper);
        store.putCustomer(spaced);

        assertThat(store.load().customers()).containsExactly(lower, upper, spaced);
    }

    @Test
    void aTeamWithAMissingCustomerIsRefusedBeforeAnyRowIsWritten() {
        store.replaceAll(ConfigFixtures.full());
        Team stray = new Team("stray", "nowhere", List.of(Budget.lifetime(Money.parse("1"))), null);

        assertRefusedWithoutWrites(() -> store.putTeam(stray), "teams[2].customerId", "\"nowhere\" is not a customer");
    }

    @Test
    void aDuplicateSecretIsRefusedWithoutShowingTheSecret() {
        store.replaceAll(ConfigFixtures.full());
        VirtualKey copy = VirtualKey.builder("vk-copy").secret(SECRET_1).customer("globex").build();

        assertRefusedWithoutWrites(() -> store.putVirtualKey(copy), "secretHash", "the same secret as virtual key vk-1");
        assertThatThrownBy(() -> store.putVirtualKey(copy)).hasMessageNotContaining(SECRET_1);
    }

    @Test
    void aKeyWhoseCustomerIsNotItsTeamsCustomerIsRefused() {
        store.replaceAll(ConfigFixtures.full());
        VirtualKey crossed = VirtualKey.builder("vk-x").secret("sk-x").team("research").customer("globex").build();

        assertRefusedWithoutWrites(() -> store.putVirtualKey(crossed), "customerId",
                "is not the customer of team \"research\"");
    }

    @Test
    void aModelConfigScopedToAMissingUserIsRefused() {
        store.replaceAll(ConfigFixtures.full());
        ModelConfig stray = new ModelConfig("mc-bob", "*", null, ModelConfig.Scope.USER, "bob", List.of(),
                RateLimit.builder().requests(1, "1m").build());

        assertRefusedWithoutWrites(() -> store.putModelConfig(stray), "scopeId", "\"bob\" is not a user");
    }

    @Test
    void deletingACustomerStillReferencedIsRefused() {
        store.replaceAll(ConfigFixtures.full());

        assertRefusedWithoutWrites(() -> store.deleteCustomer("acme"), "deleteCustomer(\"acme\")",
                "team \"research\" still refers to customer \"acme\"");
        assertRefusedWithoutWrites(() -> store.deleteCustomer("globex"),
                "virtual key \"vk/2 {ü}\" still refers to customer \"globex\"");
        assertRefusedWithoutWrites(() -> store.deleteTeam("research"),
                "virtual key \"vk-1\" still refers to team \"research\"");
        assertRefusedWithoutWrites(() -> store.deleteVirtualKey("vk-1"),
                "model config \"mc-openai-vk1\" still refers to virtual key \"vk-1\"");
        assertRefusedWithoutWrites(() -> store.deleteUser("alice@example.com"),
                "model config \"mc-o1-alice\" still refers to user \"alice@example.com\"");
    }

    @Test
    void anIdTooLongForItsColumnIsRefusedByName() {
        Customer longId = new Customer("c".repeat(256), List.of(), null);

        assertRefusedWithoutWrites(() -> store.putCustomer(longId), "Customer.id", "has 256 characters");
    }

    @Test
    void aReplicaWatcherSeesAChangeWithinTwoSeconds() throws InterruptedException {
        store.replaceAll(ConfigFixtures.full());
        JdbcConfigStore replica = JdbcConfigStore.builder(db.newDataSource(config -> config.setPoolName("replica")))
                .migrate(false).build();
        try (ConfigWatcher watcher = replica.watch()) {
            assertThat(watcher.current()).isEqualTo(ConfigFixtures.full());
            Customer changed = new Customer("globex", "Globex", List.of(Budget.lifetime(Money.parse("42"))), null);

            store.putCustomer(changed);
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (!watcher.current().customers().contains(changed) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }

            assertThat(watcher.current().customers()).contains(changed);
            assertThat(watcher.get()).isEqualTo(store.load());
            assertThat(watcher.version()).isEqualTo(store.version());
        }
    }

    private static void assertRefusedWithoutWrites(Executable change, String... messageParts) {
        Map<String, List<String>> before = Rows.config(db.dataSource());
        GovernanceConfig config = store.load();

        assertThatThrownBy(change::execute)
                .isInstanceOf(ConfigException.class)
                .hasMessageContainingAll(messageParts)
                .hasMessageContaining("nothing written");

        assertThat(Rows.config(db.dataSource())).isEqualTo(before);
        assertThat(store.load()).isEqualTo(config);
    }
}
