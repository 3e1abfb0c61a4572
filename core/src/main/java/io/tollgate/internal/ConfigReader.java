package io.tollgate.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.tollgate.Budget;
import io.tollgate.ConfigException;
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

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Reads the JSON format of {@link io.tollgate.ConfigLoader} into a {@link GovernanceConfig}: the text becomes a
 * Jackson tree, mapped by hand so that every error names its path inside the file.
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigReader {

    static final String CUSTOMERS = "customers";
    static final String TEAMS = "teams";
    static final String VIRTUAL_KEYS = "virtualKeys";
    static final String USERS = "users";
    static final String MODEL_CONFIGS = "modelConfigs";

    /** The value of a reset period that means "never resets". */
    static final String NO_RESET = "none";

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            // decimals keep their JSON text: "max": 0.1 must be exactly a tenth of a dollar, not the nearest double
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            // a key given twice is almost always a mistake; silently keeping the last one would hide it
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // the caller opened the stream, the caller closes it
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            // parse errors must not quote the file: it may hold a secret
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    /** Jackson quotes unrecognized tokens in full; an unquoted secret would end up in the message. */
    private static final Pattern QUOTED_TOKEN = Pattern.compile("(Unrecognized token) '[^']*'");

    /** Locations inside Jackson's messages; ours say "line 3, column 7". */
    private static final Pattern SOURCE_LOCATION = Pattern.compile("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)]");

    private static final int MAX_QUOTED_LENGTH = 80;

    private ConfigReader() {
    }

    /** Reads a whole configuration from {@code in}, which is left open. */
    public static GovernanceConfig read(InputStream in) {
        try (JsonParser parser = MAPPER.createParser(in)) {
            return readFrom(parser);
        } catch (IOException e) {
            throw new ConfigException("cannot read the configuration: " + e, e);
        }
    }

    /** Reads a whole configuration from JSON text. */
    public static GovernanceConfig parse(String json) {
        try (JsonParser parser = MAPPER.createParser(json)) {
            return readFrom(parser);
        } catch (IOException e) {
            throw new ConfigException("cannot read the configuration: " + e, e);
        }
    }

    private static GovernanceConfig readFrom(JsonParser parser) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(parser);
            if (root != null && !root.isMissingNode() && parser.nextToken() != null) {
                JsonLocation at = parser.currentTokenLocation();
                throw new ConfigException("malformed JSON at line " + at.getLineNr() + ", column " + at.getColumnNr()
                        + ": more content after the top-level object");
            }
        } catch (JsonProcessingException e) {
            throw malformed(e);
        }
        if (root == null || root.isMissingNode()) {
            throw new ConfigException("the configuration is empty (expected a JSON object)");
        }
        return config(root);
    }

    /** Line, column and path of a syntax error; the cause is dropped because its message may quote the file. */
    private static ConfigException malformed(JsonProcessingException e) {
        String path = e.getProcessor() instanceof JsonParser p ? pathOf(p.getParsingContext()) : "";
        JsonLocation at = e.getLocation();
        String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        String reason = QUOTED_TOKEN.matcher(String.valueOf(e.getOriginalMessage())).replaceAll("$1");
        reason = SOURCE_LOCATION.matcher(reason).replaceAll("line $1, column $2");
        return new ConfigException((path.isEmpty() ? "" : path + ": ") + "malformed JSON" + where + ": " + reason);
    }

    private static String pathOf(JsonStreamContext context) {
        Deque<String> parts = new ArrayDeque<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                parts.push("[" + c.getCurrentIndex() + "]");
            } else if (c.getCurrentName() != null) {
                parts.push("." + c.getCurrentName());
            }
        }
        String path = String.join("", parts);
        return path.startsWith(".") ? path.substring(1) : path;
    }

    private static GovernanceConfig config(JsonNode root) {
        if (!root.isObject()) {
            throw new ConfigException("the configuration must be a JSON object, got " + describe(root));
        }
        Obj o = new Obj(root, "", CUSTOMERS, TEAMS, VIRTUAL_KEYS, USERS, MODEL_CONFIGS);
        List<Customer> customers = o.list(CUSTOMERS, ConfigReader::customer);
        List<Team> teams = o.list(TEAMS, ConfigReader::team);
        List<VirtualKey> virtualKeys = o.list(VIRTUAL_KEYS, ConfigReader::virtualKey);
        List<User> users = o.list(USERS, ConfigReader::user);
        List<ModelConfig> modelConfigs = o.list(MODEL_CONFIGS, ConfigReader::modelConfig);
        // its messages already start with the path ("teams[0].customerId: ..."), and the lists keep the file's order
        return build("", () -> new GovernanceConfig(customers, teams, virtualKeys, users, modelConfigs));
    }

    private static Customer customer(JsonNode node, String path) {
        Obj o = new Obj(node, path, "id", "name", "budgets", "rateLimit");
        String id = o.string("id");
        String name = o.name(id);
        List<Budget> budgets = o.list("budgets", ConfigReader::budget);
        RateLimit rateLimit = o.object("rateLimit", ConfigReader::rateLimit);
        return build(path, () -> new Customer(id, name, budgets, rateLimit));
    }

    private static Team team(JsonNode node, String path) {
        Obj o = new Obj(node, path, "id", "name", "customerId", "budgets", "rateLimit");
        String id = o.string("id");
        String name = o.name(id);
        String customerId = o.string("customerId");
        List<Budget> budgets = o.list("budgets", ConfigReader::budget);
        RateLimit rateLimit = o.object("rateLimit", ConfigReader::rateLimit);
        return build(path, () -> new Team(id, name, customerId, budgets, rateLimit));
    }

    private static VirtualKey virtualKey(JsonNode node, String path) {
        Obj o = new Obj(node, path, "id", "name", "secretHash", "secret", "teamId", "customerId", "active",
                "expiresAt", "providerConfigs", "budgets", "rateLimit");
        String id = o.string("id");
        String name = o.string("name");
        // a secret pasted into the wrong field must not reach a message either
        String secretHash = o.hiddenString("secretHash");
        String secret = o.hiddenString("secret");
        if (secret != null && secret.isBlank()) {
            throw error(o.at("secret"), "must not be empty");
        }
        if (secret != null && secretHash != null) {
            throw error(path, "give either \"secret\" or \"secretHash\", not both");
        }
        String hash = secret != null ? VirtualKey.hashSecret(secret) : secretHash;
        String teamId = o.string("teamId");
        String customerId = o.string("customerId");
        boolean active = o.bool("active", true);
        Instant expiresAt = o.instant("expiresAt");
        List<ProviderConfig> providerConfigs = o.list("providerConfigs", ConfigReader::providerConfig);
        List<Budget> budgets = o.list("budgets", ConfigReader::budget);
        RateLimit rateLimit = o.object("rateLimit", ConfigReader::rateLimit);
        return build(path, () -> new VirtualKey(id, name, hash, teamId, customerId, active, expiresAt,
                providerConfigs, budgets, rateLimit));
    }

    private static ProviderConfig providerConfig(JsonNode node, String path) {
        Obj o = new Obj(node, path, "provider", "allowedModels", "blockedModels", "budgets", "rateLimit");
        String provider = o.string("provider");
        Set<String> allowed = o.stringSet("allowedModels");
        Set<String> blocked = o.stringSet("blockedModels");
        List<Budget> budgets = o.list("budgets", ConfigReader::budget);
        RateLimit rateLimit = o.object("rateLimit", ConfigReader::rateLimit);
        return build(path, () -> new ProviderConfig(provider, allowed, blocked, budgets, rateLimit));
    }

    private static User user(JsonNode node, String path) {
        Obj o = new Obj(node, path, "id", "budgets", "rateLimit");
        String id = o.string("id");
        List<Budget> budgets = o.list("budgets", ConfigReader::budget);
        RateLimit rateLimit = o.object("rateLimit", ConfigReader::rateLimit);
        return build(path, () -> new User(id, budgets, rateLimit));
    }

    private static ModelConfig modelConfig(JsonNode node, String path) {
        Obj o = new Obj(node, path, "id", "model", "provider", "scope", "scopeId", "budgets", "rateLimit");
        String id = o.string("id");
        String model = o.string("model");
        String provider = o.string("provider");
        ModelConfig.Scope scope = o.scope("scope");
        String scopeId = o.string("scopeId");
        List<Budget> budgets = o.list("budgets", ConfigReader::budget);
        RateLimit rateLimit = o.object("rateLimit", ConfigReader::rateLimit);
        return build(path, () -> new ModelConfig(id, model, provider, scope, scopeId, budgets, rateLimit));
    }

    private static Budget budget(JsonNode node, String path) {
        Obj o = new Obj(node, path, "max", "resetPeriod", "calendar", "zone", "anchor");
        Money max = o.money("max");
        WindowSpec window = o.window("");
        return build(path, () -> new Budget(max, window == null ? WindowSpec.unbounded() : window));
    }

    private static RateLimit rateLimit(JsonNode node, String path) {
        Obj o = new Obj(node, path, "tokenMax", "tokenResetPeriod", "tokenCalendar", "tokenZone", "tokenAnchor",
                "requestMax", "requestResetPeriod", "requestCalendar", "requestZone", "requestAnchor");
        long tokenMax = o.wholeNumber("tokenMax");
        WindowSpec tokenWindow = o.window("token");
        long requestMax = o.wholeNumber("requestMax");
        WindowSpec requestWindow = o.window("request");
        return build(path, () -> new RateLimit(tokenMax, tokenWindow, requestMax, requestWindow));
    }

    /** Runs a constructor; its messages name the field ("Team.customerId: ..."), so the object's path goes first. */
    private static <T> T build(String path, Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ConfigException((path.isEmpty() ? "" : path + ": ") + e.getMessage(), e);
        }
    }

    private static ConfigException error(String path, String message) {
        return new ConfigException(path + ": " + message);
    }

    /** A value as it would be quoted in a message: strings in quotes (long ones cut), containers by kind. */
    static String describe(JsonNode value) {
        if (value == null || value.isNull()) {
            return "null";
        }
        if (value.isTextual()) {
            String text = value.textValue();
            String shown = text.length() > MAX_QUOTED_LENGTH ? text.substring(0, MAX_QUOTED_LENGTH) + "..." : text;
            return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(shown)) + "\"";
        }
        if (value.isObject()) {
            return "an object";
        }
        if (value.isArray()) {
            return "an array";
        }
        return value.toString();
    }

    /** What kind of value it is, without the value: for fields whose value must never be shown. */
    private static String kind(JsonNode value) {
        if (value.isNumber()) {
            return "a number";
        }
        if (value.isBoolean()) {
            return "a boolean";
        }
        return describe(value);
    }

    /** One JSON object and its path in the file, with typed accessors whose errors name the field's path. */
    private static final class Obj {
        private final JsonNode node;
        private final String path;

        Obj(JsonNode node, String path, String... fields) {
            if (!node.isObject()) {
                throw error(path, "expected an object, got " + describe(node));
            }
            this.node = node;
            this.path = path;
            Set<String> known = Set.of(fields);
            for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!known.contains(name)) {
                    throw error(at(name), "unknown field (expected one of " + String.join(", ", fields) + ")");
                }
            }
        }

        String at(String field) {
            return path.isEmpty() ? field : path + "." + field;
        }

        /** The value, or null when absent or JSON null. */
        private JsonNode value(String field) {
            JsonNode value = node.get(field);
            return value == null || value.isNull() ? null : value;
        }

        String string(String field) {
            JsonNode value = value(field);
            if (value == null) {
                return null;
            }
            if (!value.isTextual()) {
                throw error(at(field), "expected a string, got " + describe(value));
            }
            return value.textValue();
        }

        /** The id when absent; an explicit null stays null ("no name"). */
        String name(String id) {
            return node.has("name") ? string("name") : id;
        }

        /** Like {@link #string} but never shows the value, not even a wrong-typed one. */
        String hiddenString(String field) {
            JsonNode value = value(field);
            if (value == null) {
                return null;
            }
            if (!value.isTextual()) {
                throw error(at(field), "expected a string, got " + kind(value));
            }
            return value.textValue();
        }

        boolean bool(String field, boolean absent) {
            JsonNode value = value(field);
            if (value == null) {
                return absent;
            }
            if (!value.isBoolean()) {
                throw error(at(field), "expected true or false, got " + describe(value));
            }
            return value.booleanValue();
        }

        /** A whole number that fits a long; 0 when absent. {@code 1e6} is accepted, {@code 1.5} is not. */
        long wholeNumber(String field) {
            JsonNode value = value(field);
            if (value == null) {
                return 0;
            }
            if (!value.isNumber()) {
                throw error(at(field), "expected a whole number, got " + describe(value));
            }
            BigInteger whole;
            try {
                whole = value.isIntegralNumber() ? value.bigIntegerValue()
                        : value.decimalValue().toBigIntegerExact();
            } catch (ArithmeticException e) {
                throw error(at(field), "expected a whole number, got " + describe(value));
            }
            if (whole.bitLength() > 63) {
                throw error(at(field), describe(value) + " is out of range (at most " + Long.MAX_VALUE + ")");
            }
            return whole.longValue();
        }

        /** Dollars from a string (exact) or a number (read from its JSON text, never through a double). */
        Money money(String field) {
            JsonNode value = value(field);
            if (value == null) {
                throw error(at(field), "must be set");
            }
            try {
                if (value.isTextual()) {
                    return Money.parse(value.textValue());
                }
                if (value.isNumber()) {
                    BigDecimal dollars = value.isIntegralNumber() ? new BigDecimal(value.bigIntegerValue())
                            : value.decimalValue();
                    return Money.of(dollars);
                }
            } catch (IllegalArgumentException e) {
                throw error(at(field), e.getMessage());
            }
            throw error(at(field), "expected dollars as a string such as \"12.50\" or a number, got "
                    + describe(value));
        }

        Instant instant(String field) {
            String text = string(field);
            if (text == null) {
                return null;
            }
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw error(at(field), describe(node.get(field))
                        + " is not an instant (expected ISO-8601 such as 2027-01-01T00:00:00Z)");
            }
        }

        ZoneId zone(String field) {
            String text = string(field);
            if (text == null) {
                return null;
            }
            try {
                return ZoneId.of(text);
            } catch (DateTimeException e) {
                throw error(at(field), describe(node.get(field))
                        + " is not a time zone (expected an id such as UTC, Europe/Paris or +01:00)");
            }
        }

        ModelConfig.Scope scope(String field) {
            String text = string(field);
            if (text == null) {
                return ModelConfig.Scope.GLOBAL;
            }
            try {
                return ModelConfig.Scope.valueOf(text);
            } catch (IllegalArgumentException e) {
                throw error(at(field), describe(node.get(field))
                        + " is not a scope (expected GLOBAL, VIRTUAL_KEY or USER)");
            }
        }

        /**
         * The window given by {@code <prefix>ResetPeriod}, {@code <prefix>Calendar}, {@code <prefix>Zone} and
         * {@code <prefix>Anchor} (no prefix: {@code resetPeriod}, {@code calendar}, ...), or null when no reset
         * period is given.
         */
        WindowSpec window(String prefix) {
            String periodField = field(prefix, "resetPeriod");
            String calendarField = field(prefix, "calendar");
            String zoneField = field(prefix, "zone");
            String anchorField = field(prefix, "anchor");
            String periodText = string(periodField);
            boolean calendar = bool(calendarField, false);
            ZoneId zone = zone(zoneField);
            Instant anchor = instant(anchorField);
            if (periodText == null || periodText.equals(NO_RESET)) {
                if (calendar) {
                    throw error(at(calendarField), "needs a " + periodField + " of 1d, 1w, 1M, 1Q or 1Y");
                }
                if (zone != null) {
                    throw error(at(zoneField), "applies only to calendar windows, with a " + periodField);
                }
                if (anchor != null) {
                    throw error(at(anchorField), "applies only to rolling windows, with a " + periodField);
                }
                return periodText == null ? null : WindowSpec.unbounded();
            }
            ResetPeriod period;
            try {
                period = ResetPeriod.parse(periodText);
            } catch (IllegalArgumentException e) {
                throw error(at(periodField), e.getMessage());
            }
            if (!calendar) {
                if (zone != null) {
                    throw error(at(zoneField), "applies only to calendar windows (\"" + calendarField + "\": true)");
                }
                try {
                    return anchor == null ? WindowSpec.rolling(period) : WindowSpec.rolling(period, anchor);
                } catch (IllegalArgumentException e) {
                    throw error(at(anchorField), e.getMessage());
                }
            }
            if (anchor != null) {
                throw error(at(anchorField), "applies only to rolling windows, not with \"" + calendarField
                        + "\": true");
            }
            if (zone == null) {
                zone = ZoneOffset.UTC;
            } else {
                // try the zone with a period that is always fine, so that each error lands on its own field
                try {
                    WindowSpec.calendar(ResetPeriod.of(0, 1, 0), zone);
                } catch (IllegalArgumentException e) {
                    throw error(at(zoneField), e.getMessage());
                }
            }
            try {
                return WindowSpec.calendar(period, zone);
            } catch (IllegalArgumentException e) {
                throw error(at(periodField), e.getMessage());
            }
        }

        private static String field(String prefix, String name) {
            return prefix.isEmpty() ? name : prefix + Character.toUpperCase(name.charAt(0)) + name.substring(1);
        }

        <T> T object(String field, Reader<T> reader) {
            JsonNode value = value(field);
            return value == null ? null : reader.read(value, at(field));
        }

        <T> List<T> list(String field, Reader<T> reader) {
            JsonNode value = value(field);
            if (value == null) {
                return List.of();
            }
            if (!value.isArray()) {
                throw error(at(field), "expected an array, got " + describe(value));
            }
            List<T> items = new ArrayList<>(value.size());
            for (int i = 0; i < value.size(); i++) {
                items.add(reader.read(value.get(i), at(field) + "[" + i + "]"));
            }
            return items;
        }

        /** Null when absent, so that the record decides the default. */
        Set<String> stringSet(String field) {
            JsonNode value = value(field);
            if (value == null) {
                return null;
            }
            if (!value.isArray()) {
                throw error(at(field), "expected an array of strings, got " + describe(value));
            }
            Set<String> items = new LinkedHashSet<>();
            for (int i = 0; i < value.size(); i++) {
                JsonNode item = value.get(i);
                String itemPath = at(field) + "[" + i + "]";
                if (!item.isTextual()) {
                    throw error(itemPath, "expected a string, got " + describe(item));
                }
                if (item.textValue().isBlank()) {
                    throw error(itemPath, describe(item) + " must not be empty");
                }
                if (!items.add(item.textValue())) {
                    throw error(itemPath, describe(item) + " is listed twice");
                }
            }
            return items;
        }
    }

    /** Maps one JSON value at a path. */
    @FunctionalInterface
    private interface Reader<T> {
        T read(JsonNode node, String path);
    }
}
