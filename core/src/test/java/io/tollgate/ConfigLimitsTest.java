package io.tollgate;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Hostile documents are refused fast, with a clear message, and never hang or run out of memory. Each case builds
 * its document first, then must be answered within one second.
 */
class ConfigLimitsTest {

    private static final Duration FAST = Duration.ofSeconds(1);
    private static final int MB = 1024 * 1024;
    private static final String DIGITS = "1" + "0".repeat(9_999);
    private static final int DEPTH = 100_000;

    /** The first read of a JVM loads and links Jackson; that is not what is measured here. */
    @BeforeAll
    static void loadTheMappers() {
        ConfigLoader.parse("{\"users\": [{\"id\": \"u\", \"budgets\": [{\"max\": 1}]}]}");
        ConfigLoader.parseYaml("users: [{id: u, budgets: [{max: 1}]}]");
    }

    private static Arguments json(String what, Supplier<String> document, String message) {
        return Arguments.of(what, document, (Function<String, GovernanceConfig>) ConfigLoader::parse, message);
    }

    private static Arguments jsonStream(String what, Supplier<String> document, String message) {
        return Arguments.of(what, document, (Function<String, GovernanceConfig>) text -> ConfigLoader.read(stream(text)),
                message);
    }

    private static Arguments yaml(String what, Supplier<String> document, String message) {
        return Arguments.of(what, document, (Function<String, GovernanceConfig>) ConfigLoader::parseYaml, message);
    }

    private static Arguments yamlStream(String what, Supplier<String> document, String message) {
        return Arguments.of(what, document,
                (Function<String, GovernanceConfig>) text -> ConfigLoader.readYaml(stream(text)), message);
    }

    private static InputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String tokenMax(String value) {
        return "{\"users\": [{\"id\": \"u\", \"rateLimit\": {\"tokenMax\": " + value + ", \"tokenResetPeriod\": \"1m\"}}]}";
    }

    private static String budget(String fields) {
        return "{\"users\": [{\"id\": \"u\", \"budgets\": [{" + fields + "}]}]}";
    }

    static Stream<Arguments> hostileDocuments() {
        String tooLong = "over a limit at line 1, column ";
        return Stream.of(
                // numbers whose exact value is expensive: refused before any arithmetic that grows with the exponent
                json("a token maximum of 1e99999999", () -> tokenMax("1e99999999"),
                        "users[0].rateLimit.tokenMax: 1E+99999999 is out of range (at most 9223372036854775807)"),
                json("a token maximum of -1e99999999", () -> tokenMax("-1e99999999"),
                        "users[0].rateLimit.tokenMax: -1E+99999999 is out of range (at most 9223372036854775807)"),
                json("a token maximum of 1e-99999999", () -> tokenMax("1e-99999999"),
                        "users[0].rateLimit.tokenMax: expected a whole number, got 1E-99999999"),
                json("a budget of 1e99999999 dollars", () -> budget("\"max\": 1e99999999"),
                        "users[0].budgets[0].max: 1E+99999999 dollars is out of range for money "
                                + "(about ±9.2 billion dollars)"),
                json("a budget of 1e-99999999 dollars", () -> budget("\"max\": 1e-99999999"),
                        "users[0].budgets[0]: Budget.max: $0.000000000 must be positive"),
                json("a token maximum of 10,000 digits", () -> tokenMax(DIGITS),
                        "users[0].rateLimit.tokenMax: " + tooLong + "10080: Number value length (10000) exceeds "
                                + "the maximum allowed (100)"),
                json("a budget of 10,000 digits", () -> budget("\"max\": " + DIGITS),
                        "users[0].budgets[0].max: " + tooLong),
                json("a budget of 10,000 digits in a string", () -> budget("\"max\": \"" + DIGITS + "\""),
                        "users[0].budgets[0].max: \"" + DIGITS.substring(0, 80) + "...\" dollars is out of range"),
                json("a budget of 10,000 decimals in a string", () -> budget("\"max\": \"0." + "0".repeat(10_000)
                                + "1\""),
                        "users[0].budgets[0]: Budget.max: $0.000000000 must be positive"),
                json("a reset period of 10,000 digits", () -> budget("\"max\": 1, \"resetPeriod\": \"" + DIGITS + "s\""),
                        "users[0].budgets[0].resetPeriod: \"" + DIGITS.substring(0, 80)
                                + "...\" is not a period (too long"),
                json("a reset period with 10,000 decimals", () -> budget("\"max\": 1, \"resetPeriod\": \"1."
                                + "0".repeat(9_999) + "1d\""),
                        "users[0].budgets[0].resetPeriod: \"1." + "0".repeat(78)
                                + "...\" is not a period (fractions must come out as whole milliseconds)"),
                // nesting: every position of the format has a type, so a wrong shape is refused at its first level
                json("arrays nested 100,000 deep", () -> "{\"users\": " + "[".repeat(DEPTH) + "]".repeat(DEPTH) + "}",
                        "users[0]: expected an object, got an array"),
                json("objects nested 100,000 deep", () -> "{\"users\": [{\"id\": " + "{\"a\": ".repeat(DEPTH) + "1"
                                + "}".repeat(DEPTH) + "}]}",
                        "users[0].id: expected a string, got an object"),
                json("a document of arrays nested 100,000 deep", () -> "[".repeat(DEPTH) + "]".repeat(DEPTH),
                        "the configuration must be a JSON object, got an array"),
                // sizes
                json("a string of 50 MB", () -> "{\"users\": [{\"id\": \"" + "x".repeat(50 * MB) + "\"}]}",
                        "users[0].id: " + tooLong),
                jsonStream("a string of 50 MB from a stream", () -> "{\"users\": [{\"id\": \"" + "x".repeat(50 * MB)
                        + "\"}]}", "users[0].id: " + tooLong),
                json("a field name of 50 MB", () -> "{\"" + "x".repeat(50 * MB) + "\": 1}", tooLong),
                json("a document of 65 MB", () -> "{" + " ".repeat(65 * MB) + "}",
                        "over a limit: Document length (68157442) exceeds the maximum allowed (67108864)"),

                yaml("a YAML token maximum of 1e99999999",
                        () -> "users: [{id: u, rateLimit: {tokenMax: 1e99999999, tokenResetPeriod: 1m}}]",
                        "users[0].rateLimit.tokenMax: 1E+99999999 is out of range (at most 9223372036854775807)"),
                yaml("a YAML token maximum of 1e-99999999",
                        () -> "users: [{id: u, rateLimit: {tokenMax: 1e-99999999, tokenResetPeriod: 1m}}]",
                        "users[0].rateLimit.tokenMax: expected a whole number, got 1E-99999999"),
                yaml("a YAML budget of 1e99999999 dollars", () -> "users: [{id: u, budgets: [{max: 1e99999999}]}]",
                        "users[0].budgets[0].max: 1E+99999999 dollars is out of range for money "
                                + "(about ±9.2 billion dollars)"),
                yaml("a YAML token maximum of 10,000 digits",
                        () -> "users: [{id: u, rateLimit: {tokenMax: " + DIGITS + ", tokenResetPeriod: 1m}}]",
                        "users[0].rateLimit.tokenMax: " + tooLong + "10039: Number value length (10000) exceeds "
                                + "the maximum allowed (100)"),
                yaml("YAML arrays nested 100,000 deep", () -> "users: " + "[".repeat(DEPTH) + "]".repeat(DEPTH),
                        "users[0]: expected an object, got an array"),
                yaml("YAML mappings nested 100,000 deep", () -> "users: [{id: " + "{a: ".repeat(DEPTH) + "1"
                                + "}".repeat(DEPTH) + "}]",
                        "users[0].id: expected a string, got an object"),
                yaml("a YAML string of 50 MB", () -> "users: [{id: " + "x".repeat(50 * MB) + "}]",
                        "over a limit: Document length (52428815) exceeds the maximum allowed (8388608)"),
                yamlStream("a YAML string of 50 MB from a stream", () -> "users: [{id: " + "x".repeat(50 * MB) + "}]",
                        "over a limit at line 1, column 1048577: Line length (1048577) exceeds the maximum allowed "
                                + "(1048576)"),
                yamlStream("a quoted YAML string of 50 MB from a stream",
                        () -> "users: [{id: \"" + "x".repeat(50 * MB) + "\"}]",
                        "over a limit at line 1, column 1048577: Line length (1048577) exceeds the maximum allowed "
                                + "(1048576)"),
                yamlStream("a YAML string of 20 MB on short lines", () -> "users: [{id: \""
                                + "xxxxxxxxxxxxxxx\n".repeat(20 * MB / 16) + "\"}]",
                        "over a limit: Document length ("),
                yamlStream("a YAML document of 20 MB", () -> ("#" + "c".repeat(1000) + "\n").repeat(20 * 1024),
                        "over a limit: Document length ("),
                yaml("the billion laughs", ConfigLimitsTest::billionLaughs,
                        "users[1].budgets[0]: *l0 is a YAML alias; aliases are not supported, write the value out"));
    }

    /** Nine levels of nine aliases each: a billion strings, if aliases were expanded. */
    private static String billionLaughs() {
        StringBuilder yaml = new StringBuilder("users:\n  - id: &l0 lol\n");
        for (int level = 1; level <= 9; level++) {
            yaml.append("  - id: u").append(level).append("\n    budgets: &l").append(level).append(" [");
            for (int i = 0; i < 9; i++) {
                yaml.append(i == 0 ? "" : ", ").append("*l").append(level - 1);
            }
            yaml.append("]\n");
        }
        return yaml.toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileDocuments")
    void hostileDocumentIsRefusedWithinASecond(String what, Supplier<String> document,
                                              Function<String, GovernanceConfig> reader, String message) {
        String text = document.get();

        ConfigException e = assertTimeoutPreemptively(FAST,
                () -> catchThrowableOfType(ConfigException.class, () -> reader.apply(text)));

        assertThat(e).as(what).isNotNull();
        assertThat(e.getMessage()).as(what).startsWith(message).hasSizeLessThan(1_000);
    }

    @Test
    void theLargestDocumentsThatFitAreStillRead() {
        // a name just under the limit is read; one of the limit's length is not a field of the format
        String name = "n".repeat(16 * 1024);
        assertThat(ConfigLoader.parse("{\"customers\": [{\"id\": \"c\", \"name\": \"" + name + "\"}]}")
                .customer("c").orElseThrow().name()).isEqualTo(name);
        assertThat(ConfigLoader.parseYaml("customers: [{id: c, name: " + name + "}]")
                .customer("c").orElseThrow().name()).isEqualTo(name);
        assertThat(ConfigLoader.parse(tokenMax("9223372036854775807")).user("u").orElseThrow().rateLimit().tokenMax())
                .isEqualTo(Long.MAX_VALUE);
        assertThat(ConfigLoader.parse(tokenMax("9.223372036854775807e18")).user("u").orElseThrow().rateLimit()
                .tokenMax()).isEqualTo(Long.MAX_VALUE);
    }
}
