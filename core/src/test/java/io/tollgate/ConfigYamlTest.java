package io.tollgate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import static io.tollgate.ConfigLoaderTest.q;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** YAML reads the JSON format's objects and fields; what differs is the syntax, and so are syntax errors. */
class ConfigYamlTest {

    private static final String SECRET = "sk-do-not-show-4f1c9a";

    private static ConfigException failure(String yaml) {
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parseYaml(yaml));
    }

    /** The JSON format's errors about values: JSON text is also YAML (its flow style), so each reads as YAML too. */
    static Stream<Arguments> valueErrors() {
        return ConfigLoaderTest.errors().filter(arguments -> {
            String message = (String) arguments.get()[1];
            return !message.startsWith("malformed JSON") && !message.startsWith("the configuration");
        });
    }

    @ParameterizedTest
    @MethodSource("valueErrors")
    void jsonTextReadAsYamlGivesTheSameErrorWithTheSamePath(String json, String message) {
        assertThat(failure(q(json))).hasMessage(q(message));
    }

    @Test
    void blockStyleErrorsNameTheSamePaths() {
        String yaml = """
                virtualKeys:
                  - id: a
                    secret: sk-a
                  - id: b
                    secret: sk-b
                    budgets:
                      - max: 1
                        resetPeriod: 1x
                """;

        assertThat(failure(yaml)).hasMessageStartingWith(
                "virtualKeys[1].budgets[0].resetPeriod: \"1x\" is not a period (expected ");
    }

    @Test
    void unknownFieldsAreErrorsInYamlToo() {
        assertThat(failure("customers:\n  - id: c\n    budgett: []\n"))
                .hasMessage("customers[0].budgett: unknown field (expected one of id, name, budgets, rateLimit)");
    }

    @Test
    void yamlValuesOfTheWrongTypeAreNotGuessed() {
        // plain scalars keep YAML's JSON schema: 42 is a number and yes is a string, not true
        assertThat(failure("users: [{id: 42}]")).hasMessage("users[0].id: expected a string, got 42");
        assertThat(failure("virtualKeys: [{id: k, secret: s, active: yes}]"))
                .hasMessage("virtualKeys[0].active: expected true or false, got \"yes\"");
        assertThat(failure("users: [{id: u, budgets: [{max: null}]}]")).hasMessage("users[0].budgets[0].max: must be set");
        assertThat(failure("users: [{id: u, budgets: [{max: ~}]}]")).hasMessageStartingWith(
                "users[0].budgets[0].max: \"~\" is not an amount of money");
    }

    @Test
    void malformedYamlGivesLineColumnAndPath() {
        String yaml = """
                customers:
                  - id: acme
                    name: "Acme
                """;

        assertThat(failure(yaml)).hasMessageStartingWith("customers[0].name: malformed YAML at line 4, column 1: "
                + "while scanning a quoted scalar: found unexpected end of stream");
    }

    @Test
    void aKeyGivenTwiceIsAnError() {
        assertThat(failure("users:\n  - id: u\n    id: v\n"))
                .hasMessageStartingWith("users[0].id: malformed YAML at line ")
                .hasMessageContaining("Duplicate field 'id'");
    }

    @Test
    void theWholeDocumentMustBeOneMapping() {
        assertThat(failure("")).hasMessage("the configuration is empty (expected a YAML mapping)");
        assertThat(failure("# nothing but a comment\n")).hasMessage("the configuration is empty (expected a YAML mapping)");
        assertThat(failure("- a\n")).hasMessage("the configuration must be a YAML mapping, got an array");
        assertThat(failure("null")).hasMessage("the configuration must be a YAML mapping, got null");
        assertThat(failure("{}\n---\n{}\n"))
                .hasMessage("malformed YAML at line 3, column 1: more content after the top-level mapping");
    }

    @Test
    void aliasesAreRefusedWhereverTheyStand() {
        String anchors = "users:\n  - {id: &c u1, budgets: &n []}\n";

        assertThat(failure(anchors + "  - {id: *c}\n"))
                .hasMessage("users[1].id: *c is a YAML alias; aliases are not supported, write the value out");
        assertThat(failure(anchors + "  - *n\n"))
                .hasMessage("users[1]: *n is a YAML alias; aliases are not supported, write the value out");
        assertThat(failure(anchors + "  - {id: u2, budgets: *n}\n"))
                .hasMessage("users[1].budgets: *n is a YAML alias; aliases are not supported, write the value out");
        assertThat(failure(anchors + "  - {id: u2, budgets: [{max: 1, <<: *n}]}\n"))
                .hasMessageStartingWith("users[1].budgets[0].\"<<\": unknown field (expected one of max, ");
        // an anchor alone is harmless
        assertThat(ConfigLoader.parseYaml(anchors).user("u1")).isPresent();
    }

    @Test
    void readYamlLeavesTheStreamOpen() {
        boolean[] closed = {false};
        InputStream in = new ByteArrayInputStream("users: [{id: u}]\n".getBytes(StandardCharsets.UTF_8)) {
            @Override
            public void close() throws IOException {
                closed[0] = true;
                super.close();
            }
        };

        assertThat(ConfigLoader.readYaml(in).user("u")).isPresent();
        assertThat(closed[0]).isFalse();
    }

    @Test
    void malformedUtf8IsAnErrorNotAGuess() {
        byte[] bytes = "users: [{id: u\u00e9}]".getBytes(StandardCharsets.ISO_8859_1);

        assertThat(catchThrowableOfType(ConfigException.class, () -> ConfigLoader.readYaml(new ByteArrayInputStream(bytes))))
                .hasMessageContaining("malformed YAML").hasMessageContaining("UTF-8");
    }

    // --- secrets never appear in messages

    @ParameterizedTest
    @ValueSource(strings = {
            "virtualKeys: [{id: k, secret: SECRET, teamId: nobody}]",
            "virtualKeys: [{id: a, secret: SECRET}, {id: b, secret: SECRET}]",
            "virtualKeys: [{id: k, secretHash: SECRET}]",
            "virtualKeys: [{id: k, secret: [SECRET]}]",
            "virtualKeys: [{id: k, secret: {SECRET: 1}}]",
            "virtualKeys: [{id: k, secret: *SECRET}]",
            "virtualKeys: [{id: k, secret: \"SECRET",
            "virtualKeys: [{id: k, secret: \"SECRET\\uZZZZ\"}]",
            "virtualKeys:\n  - id: k\n    secret: SECRET\n   budgets: []\n",
            "virtualKeys:\n  - id: k\n    secret: SECRET\n\tx: 1\n",
            "virtualKeys:\n  - id: k\n    secret: SECRET SECRET: x\n"})
    void secretIsInNoMessage(String template) {
        ConfigException e = failure(template.replace("SECRET", SECRET));

        assertThat(e).isNotNull();
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).doesNotContain(SECRET).doesNotContain("do-not-show");
        }
    }

    @Test
    void secretOfTheWrongTypeIsNotShown() {
        assertThat(failure("virtualKeys: [{id: k, secret: 8675309}]"))
                .hasMessage("virtualKeys[0].secret: expected a string, got a number");
        assertThat(failure("virtualKeys: [{id: k, secret: true}]"))
                .hasMessage("virtualKeys[0].secret: expected a string, got a boolean");
    }
}
