package io.tollgate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ConfigLoaderTest {

    private static final String EXAMPLE_SECRET = "sk-example-search-prod";
    private static final String SECRET = "sk-do-not-show-4f1c9a";

    /** Single quotes become double quotes, so that JSON reads well in Java strings. */
    static String q(String text) {
        return text.replace('\'', '"');
    }

    private static Path examplePath() throws URISyntaxException {
        return Path.of(ConfigLoaderTest.class.getResource("/config/example.json").toURI());
    }

    private static Path exampleYamlPath() throws URISyntaxException {
        return Path.of(ConfigLoaderTest.class.getResource("/config/example.yaml").toURI());
    }

    static String resource(String name) throws IOException, URISyntaxException {
        return Files.readString(Path.of(ConfigLoaderTest.class.getResource(name).toURI()));
    }

    private static WindowSpec rolling(String period) {
        return WindowSpec.rolling(ResetPeriod.parse(period));
    }

    private static ConfigException failure(String json) {
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(q(json)));
    }

    // --- the example

    @Test
    void exampleLoadsWithEveryField() throws Exception {
        GovernanceConfig expected = GovernanceConfig.builder()
                .customer(new Customer("acme", "Acme",
                        List.of(new Budget(Money.parse("100"),
                                WindowSpec.calendar(ResetPeriod.parse("1M"), ZoneId.of("Europe/Paris")))),
                        new RateLimit(1_000_000, rolling("1h"), 1_000, rolling("1m"))))
                .team(new Team("search", "search", "acme", List.of(), null))
                .virtualKey(new VirtualKey("vk-search-prod", "search prod", VirtualKey.hashSecret(EXAMPLE_SECRET),
                        "search", null, true, Instant.parse("2027-01-01T00:00:00Z"),
                        List.of(new ProviderConfig("openai", Set.of("*"), Set.of("gpt-4-32k"), List.of(), null)),
                        List.of(new Budget(Money.parse("5"), rolling("1d")),
                                new Budget(Money.parse("50"), WindowSpec.calendar(ResetPeriod.parse("1M"), ZoneOffset.UTC))),
                        new RateLimit(0, null, 60, rolling("1m"))))
                .user(new User("u-42", List.of(new Budget(Money.parse("1.5"), WindowSpec.unbounded())), null))
                .modelConfig(new ModelConfig("gpt4o-global", "gpt-4o", "openai", ModelConfig.Scope.GLOBAL, null,
                        List.of(), new RateLimit(2_000_000, rolling("1m"), 0, null)))
                .build();

        GovernanceConfig loaded = ConfigLoader.load(examplePath());

        assertThat(loaded).isEqualTo(expected);
        // records compare every component; spot-check the ones a mapping is most likely to get wrong
        VirtualKey key = loaded.virtualKeyByHash(VirtualKey.hashSecret(EXAMPLE_SECRET)).orElseThrow();
        assertThat(key.id()).isEqualTo("vk-search-prod");
        assertThat(key.name()).isEqualTo("search prod");
        assertThat(key.customerId()).isNull();
        assertThat(key.expiresAt()).isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
        assertThat(key.providerConfig("openai").orElseThrow().allowsModel("gpt-4-32k")).isFalse();
        assertThat(key.providerConfig("openai").orElseThrow().allowsModel("gpt-4o")).isTrue();
        assertThat(key.budgets().get(1).window().id()).isEqualTo("cal:1M@Z");
        assertThat(loaded.customer("acme").orElseThrow().budgets().get(0).window().id())
                .isEqualTo("cal:1M@Europe/Paris");
        assertThat(loaded.customer("acme").orElseThrow().rateLimit().tokenMax()).isEqualTo(1_000_000);
        assertThat(loaded.user("u-42").orElseThrow().budgets().get(0).max().nanos()).isEqualTo(1_500_000_000L);
    }

    @Test
    void exampleReadsTheSameFromEveryEntryPoint() throws Exception {
        GovernanceConfig fromFile = ConfigLoader.load(examplePath());
        try (InputStream in = Files.newInputStream(examplePath())) {
            assertThat(ConfigLoader.read(in)).isEqualTo(fromFile);
        }
        assertThat(ConfigLoader.parse(Files.readString(examplePath()))).isEqualTo(fromFile);
    }

    @Test
    void yamlExampleReadsTheSameAsTheJsonOneFromEveryEntryPoint() throws Exception {
        GovernanceConfig json = ConfigLoader.load(examplePath());

        assertThat(ConfigLoader.load(exampleYamlPath())).isEqualTo(json);
        try (InputStream in = Files.newInputStream(exampleYamlPath())) {
            assertThat(ConfigLoader.readYaml(in)).isEqualTo(json);
        }
        assertThat(ConfigLoader.parseYaml(Files.readString(exampleYamlPath()))).isEqualTo(json);
    }

    @ParameterizedTest
    @ValueSource(strings = {"config.yaml", "config.yml", "CONFIG.YML", "config.Yaml"})
    void loadReadsYamlByTheFileExtension(String name, @TempDir Path dir) throws Exception {
        Path file = Files.copy(exampleYamlPath(), dir.resolve(name));

        assertThat(ConfigLoader.load(file)).isEqualTo(ConfigLoader.load(examplePath()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"config.json", "config.JSON", "config", "config.conf"})
    void loadReadsJsonForEveryOtherName(String name, @TempDir Path dir) throws Exception {
        Path file = Files.copy(examplePath(), dir.resolve(name));

        assertThat(ConfigLoader.load(file)).isEqualTo(ConfigLoader.load(examplePath()));
        // a YAML file under such a name is read as JSON, and fails as JSON
        Files.copy(exampleYamlPath(), file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> ConfigLoader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("malformed JSON at line 1, column ");
    }

    @Test
    void javadocShowsTheExampleFiles() throws Exception {
        String source = Files.readString(Path.of("src/main/java/io/tollgate/ConfigLoader.java"));

        assertThat(javadocExample(source, 0)).isEqualTo(Files.readString(examplePath()));
        assertThat(javadocExample(source, 1)).isEqualTo(Files.readString(exampleYamlPath()));
    }

    /** The {@code n}th {@code <pre>{@code ...}</pre>} block of a source file's comments, without the comment's stars. */
    private static String javadocExample(String source, int n) {
        int start = -1;
        for (int i = 0; i <= n; i++) {
            start = source.indexOf("<pre>{@code\n", start + 1);
        }
        start += "<pre>{@code\n".length();
        int end = source.indexOf(" * }</pre>", start);
        return source.substring(start, end).replaceAll("(?m)^ \\* ?", "");
    }

    // --- writing

    @Test
    void exampleRoundTrips() throws Exception {
        GovernanceConfig example = ConfigLoader.load(examplePath());

        String json = ConfigLoader.toJson(example);

        assertThat(ConfigLoader.parse(json)).isEqualTo(example);
        assertThat(json).doesNotContain("\"secret\"").contains("\"max\": \"100.00\"");
    }

    /** One of every kind of value the format has: defaults and non-defaults, every window kind, every scope. */
    static GovernanceConfig everyKindOfValue() {
        return GovernanceConfig.builder()
                .customer(new Customer("c1", null, List.of(
                        new Budget(Money.parse("0.000000001"), WindowSpec.unbounded()),
                        new Budget(Money.parse("9200000000"), WindowSpec.calendar(ResetPeriod.parse("1Q"), ZoneId.of("UTC"))),
                        new Budget(Money.parse("12.34"), WindowSpec.calendar(ResetPeriod.parse("1w"), ZoneId.of("+05:30"))),
                        new Budget(Money.parse("7"), WindowSpec.calendar(ResetPeriod.parse("1Y"), ZoneOffset.UTC), true),
                        new Budget(Money.parse("3"), WindowSpec.rolling(ResetPeriod.parse("1M"),
                                Instant.parse("2024-01-31T10:15:30.123Z")))),
                        new RateLimit(5, WindowSpec.unbounded(), 9, WindowSpec.calendar(ResetPeriod.parse("1d"),
                                ZoneId.of("America/New_York")))))
                .customer(new Customer("c2", "c2", List.of(), null))
                .team(new Team("t1", "Team one", null, List.of(), new RateLimit(0, null, 1,
                        WindowSpec.rolling(ResetPeriod.parse("1h30m"), Instant.ofEpochMilli(-1)))))
                .team(new Team("t2", "t2", "c1", List.of(), null))
                .virtualKey(new VirtualKey("k1", "k1", VirtualKey.hashSecret("a"), null, "c2", false, null,
                        List.of(), List.of(), null))
                .virtualKey(new VirtualKey("k2", "Key \"two\" \u00e9", VirtualKey.hashSecret("b"), "t2", "c1", true,
                        Instant.parse("2030-06-01T12:00:00.5Z"),
                        List.of(new ProviderConfig("openai", Set.of(), Set.of(), List.of(), null),
                                new ProviderConfig("anthropic", Set.of("claude-3", "claude-4"), Set.of("*"),
                                        List.of(new Budget(Money.parse("1"), rolling("12h"))),
                                        new RateLimit(100, rolling("1.5s"), 0, null))),
                        List.of(), null))
                .user(new User("u1", List.of(), new RateLimit(10, rolling("1m"), 2, rolling("1s"), 4, true)))
                .user(new User("u2", List.of(), RateLimit.builder().inFlight(3).build()))
                .modelConfig(new ModelConfig("m1", "*", null, ModelConfig.Scope.VIRTUAL_KEY, "k2",
                        List.of(new Budget(Money.parse("0.5"), rolling("1d"))), null))
                .modelConfig(new ModelConfig("m2", "gpt-4o", "openai", ModelConfig.Scope.USER, "u1",
                        List.of(), new RateLimit(1, rolling("250ms"), 0, null)))
                .build();

    }

    @Test
    void everyKindOfValueRoundTrips() {
        GovernanceConfig config = everyKindOfValue();

        String json = ConfigLoader.toJson(config);
        GovernanceConfig back = ConfigLoader.parse(json);

        assertThat(back).isEqualTo(config);
        assertThat(back.customer("c1").orElseThrow().name()).isNull();
        assertThat(back.customer("c1").orElseThrow().budgets().get(1).window().id()).isEqualTo("cal:3M@UTC");
        assertThat(ConfigLoader.toJson(back)).isEqualTo(json);
    }

    @Test
    void everyKindOfValueRoundTripsThroughYaml() {
        GovernanceConfig config = everyKindOfValue();

        String yaml = ConfigLoader.toYaml(config);
        GovernanceConfig back = ConfigLoader.parseYaml(yaml);

        assertThat(back).isEqualTo(config);
        assertThat(back.customer("c1").orElseThrow().name()).isNull();
        assertThat(ConfigLoader.toYaml(back)).isEqualTo(yaml);
        // amounts stay strings, as in JSON, and ids that look like numbers or booleans keep their quotes
        assertThat(yaml).contains("max: \"9200000000.00\"").doesNotContain("secret:");
    }

    @Test
    void writtenYamlIsExactlyTheGoldenText() throws Exception {
        assertThat(ConfigLoader.toYaml(ConfigLoader.load(examplePath()))).isEqualTo(resource("/config/example-written.yaml"));
    }

    @Test
    void yamlKeepsTextThatLooksLikeOtherTypesAsText() {
        GovernanceConfig config = GovernanceConfig.builder()
                .user(new User("true", List.of(), null))
                .user(new User("007", List.of(), null))
                .user(new User("null", List.of(), null))
                .user(new User("1e3", List.of(), null))
                .user(new User("- x: y", List.of(), null))
                .user(new User("*alias", List.of(), null))
                .user(new User("&anchor", List.of(), null))
                .user(new User("~", List.of(), null))
                .user(new User("key: value # comment", List.of(), null))
                .user(new User("  spaced  ", List.of(), null))
                .user(new User("line\nbreak", List.of(), null))
                .build();

        assertThat(ConfigLoader.parseYaml(ConfigLoader.toYaml(config))).isEqualTo(config);
    }

    @Test
    void emptyConfigRoundTrips() {
        assertThat(ConfigLoader.parse("{}")).isEqualTo(GovernanceConfig.empty());
        assertThat(ConfigLoader.parse(ConfigLoader.toJson(GovernanceConfig.empty()))).isEqualTo(GovernanceConfig.empty());
        assertThat(ConfigLoader.parseYaml("{}")).isEqualTo(GovernanceConfig.empty());
        assertThat(ConfigLoader.parseYaml(ConfigLoader.toYaml(GovernanceConfig.empty()))).isEqualTo(GovernanceConfig.empty());
    }

    @Test
    void writtenJsonIsExactlyTheGoldenText() throws Exception {
        assertThat(ConfigLoader.toJson(ConfigLoader.load(examplePath()))).isEqualTo(resource("/config/example-written.json"));
        assertThat(ConfigLoader.toJson(everyKindOfValue())).isEqualTo(resource("/config/every-kind-written.json"));
        assertThat(ConfigLoader.toJson(GovernanceConfig.empty())).isEqualTo("{ }\n");
    }

    // --- values

    @Test
    void defaultsApplyToMissingFields() {
        GovernanceConfig config = ConfigLoader.parse(q("""
                {'customers': [{'id': 'c'}],
                 'teams': [{'id': 't', 'budgets': null}],
                 'virtualKeys': [{'id': 'k', 'secret': 'sk-1', 'providerConfigs': [{'provider': 'p'}]}],
                 'modelConfigs': [{'id': 'm', 'model': '*', 'budgets': [{'max': 1}]}]}"""));

        assertThat(config.customer("c").orElseThrow().name()).isEqualTo("c");
        assertThat(config.team("t").orElseThrow().budgets()).isEmpty();
        VirtualKey key = config.virtualKey("k").orElseThrow();
        assertThat(key.active()).isTrue();
        assertThat(key.name()).isEqualTo("k");
        assertThat(key.expiresAt()).isNull();
        assertThat(key.secretHash()).isEqualTo(VirtualKey.hashSecret("sk-1"));
        assertThat(key.providerConfig("p").orElseThrow().allowedModels()).isEmpty();
        ModelConfig model = config.modelConfigs().get(0);
        assertThat(model.scope()).isEqualTo(ModelConfig.Scope.GLOBAL);
        assertThat(model.provider()).isNull();
        assertThat(model.budgets().get(0).window()).isEqualTo(WindowSpec.unbounded());
    }

    @Test
    void moneyIsReadExactlyFromStringsAndNumbers() {
        GovernanceConfig config = ConfigLoader.parse(q("""
                {'users': [{'id': 'u', 'budgets': [
                    {'max': 0.1}, {'max': 123456789.123456789}, {'max': '$0.000123'}, {'max': 2},
                    {'max': 1E+3}, {'max': '0.0000000015'}]}]}"""));

        assertThat(config.user("u").orElseThrow().budgets()).extracting(b -> b.max().nanos())
                .containsExactly(100_000_000L, 123_456_789_123_456_789L, 123_000L, 2_000_000_000L,
                        1_000_000_000_000L, 2L);
    }

    @Test
    void wholeNumbersMayBeWrittenWithAnExponent() {
        GovernanceConfig config = ConfigLoader.parse(q(
                "{'users': [{'id': 'u', 'rateLimit': {'tokenMax': 1e6, 'tokenResetPeriod': '1m'}}]}"));

        assertThat(config.user("u").orElseThrow().rateLimit().tokenMax()).isEqualTo(1_000_000L);
    }

    // --- errors, each with the path of the bad value

    @Test
    void badResetPeriodNamesItsPath() {
        String json = """
                {'virtualKeys': [
                  {'id': 'a', 'secret': 'sk-a'},
                  {'id': 'b', 'secret': 'sk-b'},
                  {'id': 'c', 'secret': 'sk-c', 'budgets': [{'max': '1', 'resetPeriod': '1x'}]}]}""";

        assertThatThrownBy(() -> ConfigLoader.parse(q(json)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("virtualKeys[2].budgets[0].resetPeriod: \"1x\" is not a period (expected ");
    }

    @Test
    void windowsBeyondWhatAStoreCanCountExactlyAreRefusedWhenLoaded() {
        String period = """
                {'virtualKeys': [{'id': 'a', 'secret': 'sk-a', 'budgets': [{'max': '1', 'resetPeriod': '285000Y'}]}]}""";
        String anchor = """
                {'virtualKeys': [{'id': 'a', 'secret': 'sk-a', 'budgets': [{'max': '1', 'resetPeriod': '1d',
                  'anchor': '+200000-01-01T00:00:00Z'}]}]}""";

        assertThatThrownBy(() -> ConfigLoader.parse(q(period)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("virtualKeys[0].budgets[0].resetPeriod: \"285000Y\" is not a period (too long: "
                        + "at most about 71,000 years)");
        assertThatThrownBy(() -> ConfigLoader.parse(q(anchor)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("virtualKeys[0].budgets[0]")
                .hasMessageContaining("is too far from 1970");
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                // unknown fields, at every depth
                Arguments.of("{'customers': [{'id': 'c', 'budgett': []}]}",
                        "customers[0].budgett: unknown field (expected one of id, name, budgets, rateLimit)"),
                Arguments.of("{'customer': []}",
                        "customer: unknown field (expected one of customers, teams, virtualKeys, users, modelConfigs)"),
                Arguments.of("{'users': [{'id': 'u', 'rateLimit': {'requestMax': 1, 'requestPeriod': '1m'}}]}",
                        "users[0].rateLimit.requestPeriod: unknown field (expected one of tokenMax, "
                                + "tokenResetPeriod, tokenCalendar, tokenZone, tokenAnchor, requestMax, "
                                + "requestResetPeriod, requestCalendar, requestZone, requestAnchor, inFlightMax, leased)"),
                // wrong types
                Arguments.of("{'users': [{'id': 'u', 'rateLimit': {'requestMax': 'ten', 'requestResetPeriod': '1m'}}]}",
                        "users[0].rateLimit.requestMax: expected a whole number, got 'ten'"),
                Arguments.of("{'users': [{'id': 'u', 'rateLimit': {'tokenMax': 1.5, 'tokenResetPeriod': '1m'}}]}",
                        "users[0].rateLimit.tokenMax: expected a whole number, got 1.5"),
                Arguments.of("{'users': [{'id': 'u', 'rateLimit': {'tokenMax': 1e30, 'tokenResetPeriod': '1m'}}]}",
                        "users[0].rateLimit.tokenMax: 1E+30 is out of range (at most 9223372036854775807)"),
                Arguments.of("{'users': [{'id': 7}]}", "users[0].id: expected a string, got 7"),
                Arguments.of("{'users': {}}", "users: expected an array, got an object"),
                Arguments.of("{'users': [null]}", "users[0]: expected an object, got null"),
                Arguments.of("{'users': ''}", "users: expected an array, got ''"),
                Arguments.of("{'virtualKeys': [{'id': 'k', 'secret': 'sk', 'providerConfigs': [{'provider': 'p', "
                                + "'allowedModels': ['a', null]}]}]}",
                        "virtualKeys[0].providerConfigs[0].allowedModels[1]: expected a string, got null"),
                Arguments.of("{'virtualKeys': [{'id': 'k', 'secret': 'sk', 'providerConfigs': [{'provider': 'p', "
                                + "'allowedModels': [' ']}]}]}",
                        "virtualKeys[0].providerConfigs[0].allowedModels[0]: ' ' must not be empty"),
                Arguments.of("{'users': [{'id': 'u', 'budgets': [{'max': true}]}]}",
                        "users[0].budgets[0].max: expected dollars as a string such as '12.50' or a number, got true"),
                Arguments.of("{'virtualKeys': [{'id': 'k', 'secret': 'sk', 'active': 'yes'}]}",
                        "virtualKeys[0].active: expected true or false, got 'yes'"),
                Arguments.of("{'virtualKeys': [{'id': 'k', 'secret': 'sk', 'providerConfigs': [{'provider': 'p', "
                                + "'allowedModels': ['a', 'a']}]}]}",
                        "virtualKeys[0].providerConfigs[0].allowedModels[1]: 'a' is listed twice"),
                Arguments.of("{'virtualKeys': [{'id': 'k', 'secret': 'sk', 'providerConfigs': [{'provider': 'p', "
                                + "'blockedModels': 'a'}]}]}",
                        "virtualKeys[0].providerConfigs[0].blockedModels: expected an array of strings, got 'a'"),
                // values the field's parser refuses
                Arguments.of("{'users': [{'id': 'u', 'budgets': [{'max': 'ten dollars'}]}]}",
                        "users[0].budgets[0].max: 'ten dollars' is not an amount of money "
                                + "(expected dollars such as 123.45 or $123.45)"),
                Arguments.of("{'users': [{'id': 'u', 'budgets': [{'resetPeriod': '1d'}]}]}",
                        "users[0].budgets[0].max: must be set"),
                Arguments.of("{'users': [{'id': 'u', 'budgets': [{'max': 1, 'resetPeriod': '1h', 'calendar': true}]}]}",
                        "users[0].budgets[0].resetPeriod: calendar alignment needs a period of 1d, 1w, 1M, 1Q or 1Y, "
                                + "not '1h'"),
                Arguments.of("{'users': [{'id': 'u', 'budgets': [{'max': 1, 'resetPeriod': '1d', 'calendar': true, "
                                + "'zone': 'Mars/Olympus'}]}]}",
                        "users[0].budgets[0].zone: 'Mars/Olympus' is not a time zone "
                                + "(expected an id such as UTC, Europe/Paris or +01:00)"),
                Arguments.of("{'users': [{'id': 'u', 'budgets': [{'max': 1, 'resetPeriod': '1d', 'zone': 'UTC'}]}]}",
                        "users[0].budgets[0].zone: applies only to calendar windows ('calendar': true)"),
                Arguments.of("{'users': [{'id': 'u', 'budgets': [{'max': 1, 'resetPeriod': '1d', 'calendar': true, "
                                + "'anchor': '2024-01-01T00:00:00Z'}]}]}",
                        "users[0].budgets[0].anchor: applies only to rolling windows, not with 'calendar': true"),
                Arguments.of("{'users': [{'id': 'u', 'budgets': [{'max': 1, 'calendar': true}]}]}",
                        "users[0].budgets[0].calendar: needs a resetPeriod of 1d, 1w, 1M, 1Q or 1Y"),
                Arguments.of("{'users': [{'id': 'u', 'rateLimit': {'tokenMax': 1, 'tokenResetPeriod': '1d', "
                                + "'tokenAnchor': 'yesterday'}}]}",
                        "users[0].rateLimit.tokenAnchor: 'yesterday' is not an instant "
                                + "(expected ISO-8601 such as 2027-01-01T00:00:00Z)"),
                Arguments.of("{'virtualKeys': [{'id': 'k', 'secret': 'sk', 'expiresAt': '2027-01-01'}]}",
                        "virtualKeys[0].expiresAt: '2027-01-01' is not an instant "
                                + "(expected ISO-8601 such as 2027-01-01T00:00:00Z)"),
                Arguments.of("{'modelConfigs': [{'id': 'm', 'model': '*', 'scope': 'global', 'budgets': [{'max': 1}]}]}",
                        "modelConfigs[0].scope: 'global' is not a scope (expected GLOBAL, VIRTUAL_KEY or USER)"),
                Arguments.of("{'virtualKeys': [{'id': 'k', 'secret': 'sk', 'secretHash': '"
                                + VirtualKey.hashSecret("sk") + "'}]}",
                        "virtualKeys[0]: give either 'secret' or 'secretHash', not both"),
                // record constructors: the object's path, then the record's own message
                Arguments.of("{'teams': [{'id': 'a'}, {'id': 'b', 'customerId': ''}]}",
                        "teams[1]: Team.customerId: '' must not be empty"),
                Arguments.of("{'customers': [{'name': 'Acme'}]}", "customers[0]: Customer.id: must be set"),
                Arguments.of("{'users': [{'id': 'u', 'rateLimit': {'requestMax': 10}}]}",
                        "users[0].rateLimit: RateLimit.requestMax: 10 has no reset period"),
                Arguments.of("{'users': [{'id': 'u', 'rateLimit': {}}]}",
                        "users[0].rateLimit: RateLimit: needs a token limit, a request limit, an in-flight limit or several"),
                Arguments.of("{'users': [{'id': 'u', 'budgets': [{'max': '0'}]}]}",
                        "users[0].budgets[0]: Budget.max: $0.000000000 must be positive"),
                Arguments.of("{'virtualKeys': [{'id': 'k'}]}",
                        "virtualKeys[0]: VirtualKey.secretHash of k: must be 64 lower-case hex characters "
                                + "(the SHA-256 of the secret)"),
                Arguments.of("{'modelConfigs': [{'id': 'm', 'model': '*'}]}",
                        "modelConfigs[0]: ModelConfig m: needs a budget or a rate limit"),
                // references and uniqueness, checked by GovernanceConfig with the same paths
                Arguments.of("{'teams': [{'id': 't', 'customerId': 'nobody'}]}",
                        "teams[0].customerId: 'nobody' is not a customer"),
                Arguments.of("{'users': [{'id': 'u'}, {'id': 'u'}]}", "users[1].id: 'u' is used twice"),
                Arguments.of("{'users': [{'id': 'u'}], 'modelConfigs': [{'id': 'm', 'model': '*', 'scope': 'USER', "
                                + "'scopeId': 'v', 'budgets': [{'max': 1}]}]}",
                        "modelConfigs[0].scopeId: 'v' is not a user"),
                // the file as a whole
                Arguments.of("[]", "the configuration must be a JSON object, got an array"),
                Arguments.of("", "the configuration is empty (expected a JSON object)"),
                Arguments.of("  \n ", "the configuration is empty (expected a JSON object)"),
                Arguments.of("{} {}", "malformed JSON at line 1, column 4: more content after the top-level object"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void errorNamesThePathAndTheValue(String json, String message) {
        assertThat(failure(json)).hasMessage(q(message));
    }

    @Test
    void malformedJsonGivesLineColumnAndPath() {
        ConfigException e = failure("""
                {
                  'customers': [
                    {'id': 'acme', 'name': 'Acme',, 'budgets': []}
                  ]
                }""");

        assertThat(e).hasMessageStartingWith("customers[0].name: malformed JSON at line 3, column 35: ");
    }

    @Test
    void truncatedJsonGivesLineAndColumn() {
        assertThat(failure("{'users': [{'id': 'u'}")).hasMessage("users[0]: malformed JSON at line 1, column 23: "
                + "Unexpected end-of-input: expected close marker for Array (start marker at line 1, column 11)");
    }

    @Test
    void aMismatchedCloseGivesWhereTheOpenObjectStarted() {
        assertThat(failure("{'users': [{'id': 'u'}]] }")).hasMessage("users: malformed JSON at line 1, column 24: "
                + "Unexpected close marker ']': expected '}' (for Object starting at line 1, column 1)");
    }

    @Test
    void aKeyGivenTwiceIsAnError() {
        assertThat(failure("{'users': [{'id': 'u', 'id': 'v'}]}"))
                .hasMessageStartingWith("users[0].id: malformed JSON at line 1, column ")
                .hasMessageContaining("Duplicate field 'id'");
    }

    @Test
    void anErrorAnywhereGivesNoConfigurationAtAll() {
        // valid entities first; the bad one is last, so a reader that applied as it went would have done most of it
        String json = """
                {'customers': [{'id': 'c'}], 'teams': [{'id': 't', 'customerId': 'c'}],
                 'users': [{'id': 'u1'}, {'id': 'u2', 'budgets': [{'max': 'x'}]}]}""";

        assertThatThrownBy(() -> ConfigLoader.parse(q(json)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("users[1].budgets[0].max: ");
    }

    @Test
    void unreadableFileIsAConfigException(@TempDir Path dir) {
        Path missing = dir.resolve("missing.json");

        assertThatThrownBy(() -> ConfigLoader.load(missing))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("cannot read " + missing + ": ");
    }

    @Test
    void readLeavesTheStreamOpen() {
        boolean[] closed = {false};
        InputStream in = new ByteArrayInputStream("{}".getBytes(StandardCharsets.UTF_8)) {
            @Override
            public void close() throws IOException {
                closed[0] = true;
                super.close();
            }
        };

        assertThat(ConfigLoader.read(in)).isEqualTo(GovernanceConfig.empty());
        assertThat(closed[0]).isFalse();
    }

    // --- secrets never appear in messages

    @ParameterizedTest
    @ValueSource(strings = {
            // a reference error elsewhere in the key
            "{'virtualKeys': [{'id': 'k', 'secret': 'SECRET', 'teamId': 'nobody'}]}",
            // a constructor error in the key that holds the secret
            "{'virtualKeys': [{'id': 'k', 'secret': 'SECRET', 'providerConfigs': [{'provider': 'p'}, {'provider': 'p'}]}]}",
            // two keys with the same secret
            "{'virtualKeys': [{'id': 'a', 'secret': 'SECRET'}, {'id': 'b', 'secret': 'SECRET'}]}",
            // both forms given
            "{'virtualKeys': [{'id': 'k', 'secret': 'SECRET', 'secretHash': 'SECRET'}]}",
            // the secret pasted where the hash goes
            "{'virtualKeys': [{'id': 'k', 'secretHash': 'SECRET'}]}",
            // malformed JSON right after the secret, or the secret left unquoted
            "{'virtualKeys': [{'id': 'k', 'secret': 'SECRET',, }]}",
            "{'virtualKeys': [{'id': 'k', 'secret': SECRET}]}",
            "{'virtualKeys': [{'id': 'k', 'secret': 'SECRET\n'}]}",
            // an error in a later entity
            "{'virtualKeys': [{'id': 'k', 'secret': 'SECRET'}], 'users': [{'id': 'u', 'budgets': [{'max': -1}]}]}"})
    void secretIsInNoMessage(String template) {
        ConfigException e = failure(template.replace("SECRET", SECRET));

        assertThat(e).isNotNull();
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).doesNotContain(SECRET).doesNotContain("do-not-show");
        }
    }

    @Test
    void secretOfTheWrongTypeIsNotShown() {
        assertThat(failure("{'virtualKeys': [{'id': 'k', 'secret': 8675309}]}"))
                .hasMessage("virtualKeys[0].secret: expected a string, got a number");
        assertThat(failure("{'virtualKeys': [{'id': 'k', 'secret': ' '}]}"))
                .hasMessage("virtualKeys[0].secret: must not be empty");
    }
}
