package io.tollgate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Ids and names must be well-formed UTF-16. An unpaired surrogate has no UTF-8 form: encoded as a Redis key it turns
 * into {@code ?}, so {@code "a\\uD800"} and {@code "a?"} would share counters. Every entry point refuses it, naming the
 * field and showing the character as an escape.
 */
class WellFormedTextTest {

    private static final String HIGH = "a\uD800";
    private static final String LOW = "a\uDFFF";
    private static final RateLimit LIMIT = RateLimit.builder().requests(1, "1m").build();
    private static final List<Budget> BUDGET = List.of(Budget.lifetime(Money.parse("1")));

    static Stream<Arguments> entryPoints() {
        return Stream.of(
                entry("Holder.id", bad -> Holder.user(bad)),
                entry("Holder.id", bad -> Holder.providerConfig("vk", bad)),
                entry("Customer.id", bad -> new Customer(bad, List.of(), null)),
                entry("Customer.name", bad -> new Customer("c", bad, List.of(), null)),
                entry("Team.id", bad -> new Team(bad, null, List.of(), null)),
                entry("Team.name", bad -> new Team("t", bad, null, List.of(), null)),
                entry("Team.customerId", bad -> new Team("t", bad, List.of(), null)),
                entry("VirtualKey.id", bad -> VirtualKey.builder(bad).secret("sk").build()),
                entry("VirtualKey.name", bad -> VirtualKey.builder("k").name(bad).secret("sk").build()),
                entry("VirtualKey.teamId", bad -> VirtualKey.builder("k").team(bad).secret("sk").build()),
                entry("VirtualKey.customerId", bad -> VirtualKey.builder("k").customer(bad).secret("sk").build()),
                entry("ProviderConfig.provider", bad -> ProviderConfig.allowAll(bad)),
                entry("ProviderConfig.allowedModels[0]",
                        bad -> new ProviderConfig("p", Set.of(bad), Set.of(), List.of(), null)),
                entry("ProviderConfig.blockedModels[0]",
                        bad -> new ProviderConfig("p", Set.of(), Set.of(bad), List.of(), null)),
                entry("User.id", bad -> new User(bad, List.of(), null)),
                entry("ModelConfig.id", bad -> ModelConfig.global(bad, "*", null, BUDGET, null)),
                entry("ModelConfig.model", bad -> ModelConfig.global("m", bad, null, BUDGET, null)),
                entry("ModelConfig.provider", bad -> ModelConfig.global("m", "*", bad, BUDGET, null)),
                entry("ModelConfig.scopeId",
                        bad -> new ModelConfig("m", "*", null, ModelConfig.Scope.USER, bad, List.of(), LIMIT)),
                entry("CheckRequest.userId", bad -> CheckRequest.builder().user(bad).build()),
                entry("CheckRequest.provider", bad -> CheckRequest.builder().provider(bad).build()),
                entry("CheckRequest.model", bad -> CheckRequest.builder().model(bad).build()),
                entry("UsageUpdate.userId", bad -> UsageUpdate.builder().requestId("r").user(bad).build()),
                entry("UsageUpdate.provider", bad -> UsageUpdate.builder().requestId("r").provider(bad).build()),
                entry("UsageUpdate.model", bad -> UsageUpdate.builder().requestId("r").model(bad).build()),
                entry("UsageUpdate.requestId", bad -> UsageUpdate.builder().requestId(bad).build()));
    }

    /** Well-formed text is the text that survives UTF-8. */
    private static boolean isWellFormed(String text) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(text);
    }

    private static Arguments entry(String field, java.util.function.Consumer<String> use) {
        return Arguments.of(field, use);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void everyIdAndNameRefusesAnUnpairedSurrogateAndShowsItEscaped(String field,
                                                                    java.util.function.Consumer<String> use) {
        for (String bad : List.of(HIGH, LOW, "\uDC00a", "a\uD800\uD800\uDC00")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> use.accept(bad));

            assertThat(e.getMessage()).as(field).contains(field + ": ").contains("is not well-formed text")
                    .matches(".*\\\\uD[89A-F][0-9A-F]{2}.*");
            assertThat(isWellFormed(e.getMessage())).as(field).isTrue();
        }
        // a pair is fine: text beyond the Basic Multilingual Plane is well-formed
        assertThatCode(() -> use.accept("a\uD83D\uDE00")).as(field).doesNotThrowAnyException();
    }

    @Test
    void theMessageNamesTheSurrogateAndWhereItIs() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> Holder.team(HIGH)))
                .hasMessage("Holder.id: \"a\\uD800\" is not well-formed text (unpaired surrogate \\uD800 at index 1)");
        assertThat(assertThrows(IllegalArgumentException.class, () -> Holder.team("x\uD83D\uDE00" + LOW)))
                .hasMessage("Holder.id: \"x\uD83D\uDE00a\\uDFFF\" is not well-formed text "
                        + "(unpaired surrogate \\uDFFF at index 4)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sk-\uD800", "sk-\uDFFF-x", "\uDBFF"})
    void aSecretThatIsNotWellFormedIsRefusedWithoutShowingAnyOfIt(String secret) {
        List<Executable> entries = List.of(
                () -> VirtualKey.hashSecret(secret),
                () -> VirtualKey.builder("k").secret(secret),
                () -> CheckRequest.builder().virtualKey(secret).build(),
                () -> UsageUpdate.builder().requestId("r").virtualKey(secret).build());
        for (Executable entry : entries) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, entry);

            assertThat(e.getMessage()).contains("is not well-formed text").doesNotContain("sk-").doesNotContain("\\u");
            assertThat(e.getMessage().chars().noneMatch(c -> Character.isSurrogate((char) c))).isTrue();
        }
    }

    // --- the same through the configuration formats

    static Stream<Arguments> configurations() {
        return Stream.of(
                Arguments.of("{'customers': [{'id': 'a\\uD800'}]}", "customers[0]: Customer.id: \"a\\uD800\""),
                Arguments.of("{'teams': [{'id': 't', 'name': 'a\\uDFFF'}]}", "teams[0]: Team.name: \"a\\uDFFF\""),
                Arguments.of("{'users': [{'id': 'u\\uDFFF'}]}", "users[0]: User.id: \"u\\uDFFF\""),
                Arguments.of("{'virtualKeys': [{'id': 'k', 'secret': 's', 'providerConfigs': [{'provider': 'p', "
                                + "'allowedModels': ['gpt\\uD800']}]}]}",
                        "virtualKeys[0].providerConfigs[0]: ProviderConfig.allowedModels[0]: \"gpt\\uD800\""),
                Arguments.of("{'modelConfigs': [{'id': 'm', 'model': 'x\\uDBFF', 'budgets': [{'max': 1}]}]}",
                        "modelConfigs[0]: ModelConfig.model: \"x\\uDBFF\""));
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void jsonRefusesAnIdThatIsNotWellFormed(String json, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(ConfigLoaderTest.q(json)));

        assertThat(e).hasMessageStartingWith(message + " is not well-formed text (unpaired surrogate \\u");
        assertThat(isWellFormed(e.getMessage())).isTrue();
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void yamlRefusesAnIdThatIsNotWellFormed(String json, String message) {
        // JSON's escapes are YAML's in double quotes
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parseYaml(ConfigLoaderTest.q(json)));

        assertThat(e).hasMessageStartingWith(message + " is not well-formed text (unpaired surrogate \\u");
    }

    @Test
    void aSecretThatIsNotWellFormedIsRefusedInAFileWithoutShowingIt() {
        String json = "{\"virtualKeys\": [{\"id\": \"k\", \"secret\": \"sk-live-\\uD800\"}]}";

        assertThat(assertThrows(ConfigException.class, () -> ConfigLoader.parse(json)))
                .hasMessage("virtualKeys[0].secret: is not well-formed text (it has an unpaired surrogate; "
                        + "a secret is never shown)");
        assertThat(assertThrows(ConfigException.class, () -> ConfigLoader.parseYaml(json)))
                .hasMessage("virtualKeys[0].secret: is not well-formed text (it has an unpaired surrogate; "
                        + "a secret is never shown)");
    }

    @Test
    void anUnpairedSurrogateInAFieldNameIsRefusedAndShownEscaped() {
        // Jackson's JSON parser checks surrogates in names itself; YAML's names reach the format, which quotes them
        assertThat(assertThrows(ConfigException.class, () -> ConfigLoader.parse("{\"users\\uD800\": []}")))
                .hasMessageStartingWith("malformed JSON at line 1, column 14: Broken surrogate pair in property name");
        assertThat(assertThrows(ConfigException.class, () -> ConfigLoader.parseYaml("{\"users\\uD800\": []}")))
                .hasMessageStartingWith("\"users\\uD800\": unknown field");
    }
}
