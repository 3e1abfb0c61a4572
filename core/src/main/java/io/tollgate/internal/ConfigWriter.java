package io.tollgate.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.Budget;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.Team;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;

import java.math.BigDecimal;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Writes a {@link GovernanceConfig} in the JSON format that {@link ConfigReader} reads, leaving out fields that hold
 * their default, so that reading the text back gives an equal config.
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigWriter {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectWriter WRITER;

    static {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                .withObjectIndenter(indenter)
                .withArrayIndenter(indenter);
        ObjectMapper mapper = JsonMapper.builder().build();
        WRITER = mapper.writer(printer);
    }

    private ConfigWriter() {
    }

    /** The configuration as pretty-printed JSON, ending with a newline. */
    public static String toJson(GovernanceConfig config) {
        Objects.requireNonNull(config, "config");
        ObjectNode root = NODES.objectNode();
        putList(root, ConfigReader.CUSTOMERS, config.customers(), ConfigWriter::customer);
        putList(root, ConfigReader.TEAMS, config.teams(), ConfigWriter::team);
        putList(root, ConfigReader.VIRTUAL_KEYS, config.virtualKeys(), ConfigWriter::virtualKey);
        putList(root, ConfigReader.USERS, config.users(), ConfigWriter::user);
        putList(root, ConfigReader.MODEL_CONFIGS, config.modelConfigs(), ConfigWriter::modelConfig);
        try {
            return WRITER.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            // a tree of plain nodes always serializes
            throw new IllegalStateException("cannot write a JSON tree", e);
        }
    }

    private static ObjectNode customer(Customer customer) {
        ObjectNode o = NODES.objectNode();
        o.put("id", customer.id());
        putName(o, customer.id(), customer.name());
        putLimits(o, customer.budgets(), customer.rateLimit());
        return o;
    }

    private static ObjectNode team(Team team) {
        ObjectNode o = NODES.objectNode();
        o.put("id", team.id());
        putName(o, team.id(), team.name());
        putIfSet(o, "customerId", team.customerId());
        putLimits(o, team.budgets(), team.rateLimit());
        return o;
    }

    private static ObjectNode virtualKey(VirtualKey key) {
        ObjectNode o = NODES.objectNode();
        o.put("id", key.id());
        if (!key.name().equals(key.id())) {
            o.put("name", key.name());
        }
        o.put("secretHash", key.secretHash());
        putIfSet(o, "teamId", key.teamId());
        putIfSet(o, "customerId", key.customerId());
        o.put("active", key.active());
        if (key.expiresAt() != null) {
            o.put("expiresAt", key.expiresAt().toString());
        }
        putList(o, "providerConfigs", key.providerConfigs(), ConfigWriter::providerConfig);
        putLimits(o, key.budgets(), key.rateLimit());
        return o;
    }

    private static ObjectNode providerConfig(ProviderConfig config) {
        ObjectNode o = NODES.objectNode();
        o.put("provider", config.provider());
        // always written: an absent list allows no model, which a reader would not guess
        putStrings(o, "allowedModels", config.allowedModels());
        if (!config.blockedModels().isEmpty()) {
            putStrings(o, "blockedModels", config.blockedModels());
        }
        putLimits(o, config.budgets(), config.rateLimit());
        return o;
    }

    private static ObjectNode user(User user) {
        ObjectNode o = NODES.objectNode();
        o.put("id", user.id());
        putLimits(o, user.budgets(), user.rateLimit());
        return o;
    }

    private static ObjectNode modelConfig(ModelConfig config) {
        ObjectNode o = NODES.objectNode();
        o.put("id", config.id());
        o.put("model", config.model());
        putIfSet(o, "provider", config.provider());
        o.put("scope", config.scope().name());
        putIfSet(o, "scopeId", config.scopeId());
        putLimits(o, config.budgets(), config.rateLimit());
        return o;
    }

    private static ObjectNode budget(Budget budget) {
        ObjectNode o = NODES.objectNode();
        o.put("max", dollars(budget.max()));
        if (budget.window().alignment() != WindowSpec.Alignment.UNBOUNDED) {
            putWindow(o, "", budget.window());
        }
        return o;
    }

    private static ObjectNode rateLimit(RateLimit rateLimit) {
        ObjectNode o = NODES.objectNode();
        if (rateLimit.hasTokenLimit()) {
            o.put("tokenMax", rateLimit.tokenMax());
            putWindow(o, "token", rateLimit.tokenWindow());
        }
        if (rateLimit.hasRequestLimit()) {
            o.put("requestMax", rateLimit.requestMax());
            putWindow(o, "request", rateLimit.requestWindow());
        }
        return o;
    }

    private static void putWindow(ObjectNode o, String prefix, WindowSpec window) {
        String periodField = field(prefix, "resetPeriod");
        switch (window.alignment()) {
            case UNBOUNDED -> o.put(periodField, ConfigReader.NO_RESET);
            case ROLLING -> {
                o.put(periodField, window.period().toString());
                if (window.anchorMillis() != 0) {
                    o.put(field(prefix, "anchor"), window.anchor().toString());
                }
            }
            case CALENDAR -> {
                o.put(periodField, window.period().toString());
                o.put(field(prefix, "calendar"), true);
                if (!window.zone().equals(ZoneOffset.UTC)) {
                    o.put(field(prefix, "zone"), window.zone().getId());
                }
            }
        }
    }

    private static String field(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }

    /** Dollars as exact text with at least two decimals: "100.00", "0.000123". */
    private static String dollars(Money money) {
        BigDecimal dollars = money.dollars().stripTrailingZeros();
        return (dollars.scale() < 2 ? dollars.setScale(2) : dollars).toPlainString();
    }

    private static void putName(ObjectNode o, String id, String name) {
        // absent reads back as the id; null must be written to read back as "no name"
        if (name == null) {
            o.putNull("name");
        } else if (!name.equals(id)) {
            o.put("name", name);
        }
    }

    private static void putIfSet(ObjectNode o, String field, String value) {
        if (value != null) {
            o.put(field, value);
        }
    }

    private static void putLimits(ObjectNode o, List<Budget> budgets, RateLimit rateLimit) {
        putList(o, "budgets", budgets, ConfigWriter::budget);
        if (rateLimit != null) {
            o.set("rateLimit", rateLimit(rateLimit));
        }
    }

    private static void putStrings(ObjectNode o, String field, Set<String> values) {
        ArrayNode array = o.putArray(field);
        // sets have no order of their own; sorting keeps the output stable from one write to the next
        new TreeSet<>(values).forEach(array::add);
    }

    private static <T> void putList(ObjectNode o, String field, List<T> values, Function<T, ObjectNode> writer) {
        if (!values.isEmpty()) {
            ArrayNode array = o.putArray(field);
            values.forEach(value -> array.add(writer.apply(value)));
        }
    }
}
