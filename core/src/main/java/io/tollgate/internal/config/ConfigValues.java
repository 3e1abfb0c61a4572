package io.tollgate.internal.config;

import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.internal.Checks;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.deser.std.StdDeserializer;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.std.StdSerializer;
import tools.jackson.dataformat.yaml.YAMLParser;

import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;

/**
 * How each kind of scalar of the configuration format is read and written. Readers are strict, so that a wrong type
 * is an error rather than a guess ({@code 7} is not the id {@code "7"}, {@code "yes"} is not {@code true}), and each
 * error names the value as the file gave it. Numbers are read from their text, never through a {@code double}, and
 * range checks come before any arithmetic whose cost grows with the exponent.
 */
final class ConfigValues {

    private static final BigDecimal MIN_LONG = BigDecimal.valueOf(Long.MIN_VALUE);
    private static final BigDecimal MAX_LONG = BigDecimal.valueOf(Long.MAX_VALUE);

    private ConfigValues() {
    }

    /** The readers and writers of every scalar type the format documents use. */
    static SimpleModule module() {
        SimpleModule module = new SimpleModule("tollgate-config-values");
        module.addDeserializer(String.class, new Text());
        module.addDeserializer(Boolean.class, new Flag());
        module.addDeserializer(Long.class, new WholeNumber());
        module.addDeserializer(Money.class, new Dollars());
        module.addDeserializer(Instant.class, new InstantValue());
        module.addDeserializer(ZoneId.class, new ZoneValue());
        module.addDeserializer(ModelConfig.Scope.class, new ScopeValue());
        module.addDeserializer(ConfigFormat.Name.class, new NameValue());
        module.addSerializer(Money.class, new DollarsWriter());
        module.addSerializer(Instant.class, new InstantWriter());
        module.addSerializer(ZoneId.class, new ZoneWriter());
        module.addSerializer(ConfigFormat.Name.class, new NameWriter());
        return module;
    }

    /** The current value as a message shows it: strings quoted (long ones cut), containers by kind. */
    static String describe(JsonParser p) {
        JsonToken token = p.currentToken();
        if (token == null) {
            return "nothing";
        }
        return switch (token) {
            case VALUE_STRING -> Checks.quote(p.getString());
            // as written: the text of a number the parser accepted is short (StreamReadConstraints)
            case VALUE_NUMBER_INT -> p.getString();
            case VALUE_NUMBER_FLOAT -> decimalText(p);
            case VALUE_TRUE -> "true";
            case VALUE_FALSE -> "false";
            case VALUE_NULL -> "null";
            case START_OBJECT, PROPERTY_NAME -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_EMBEDDED_OBJECT -> "a binary value";
            default -> token.asString() == null ? token.name() : token.asString();
        };
    }

    /** What kind of value it is, without the value: for fields whose value must never be shown. */
    static String kind(JsonParser p) {
        JsonToken token = p.currentToken();
        if (token == null) {
            return "nothing";
        }
        return switch (token) {
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_EMBEDDED_OBJECT -> "a binary value";
            default -> describe(p);
        };
    }

    /**
     * An alias stands for its anchor's value; Jackson's YAML parser would hand over the anchor's name as a string.
     * Aliases are refused rather than expanded: a document then reads the same in YAML as in JSON, and no small
     * document can expand into a huge one.
     */
    static void refuseAlias(JsonParser p) {
        if (p instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
            throw new InvalidValue("*" + Checks.printable(p.getString())
                    + " is a YAML alias; aliases are not supported, write the value out");
        }
    }

    /** {@link #refuseAlias(JsonParser)} without naming the alias: for fields whose value must never be shown. */
    static void refuseHiddenAlias(JsonParser p) {
        if (p instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
            throw new InvalidValue("expected a string, got a YAML alias; aliases are not supported");
        }
    }

    /** {@code 1E+30}, as the exact decimal reads back; the text as written if it is no decimal (YAML's .inf). */
    private static String decimalText(JsonParser p) {
        try {
            return p.getDecimalValue().toString();
        } catch (RuntimeException e) {
            return Checks.printable(p.getString());
        }
    }

    private static BigDecimal decimal(JsonParser p, String expected) {
        try {
            return p.getDecimalValue();
        } catch (RuntimeException e) {
            throw new InvalidValue("expected " + expected + ", got " + describe(p));
        }
    }

    /** Every scalar reader refuses a YAML alias first. */
    abstract static class Scalar<T> extends StdDeserializer<T> {

        Scalar(Class<T> type) {
            super(type);
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) {
            refuseAlias(p);
            return read(p);
        }

        abstract T read(JsonParser p);
    }

    /** A string, and only a string. */
    static final class Text extends Scalar<String> {

        Text() {
            super(String.class);
        }

        @Override
        String read(JsonParser p) {
            return text(p);
        }
    }

    /** The current value, which must be a string. */
    private static String text(JsonParser p) {
        if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw new InvalidValue("expected a string, got " + describe(p));
        }
        return p.getString();
    }

    /** A string whose value is never shown, not even when it has the wrong type: secrets and their hashes. */
    static final class HiddenText extends Scalar<String> {

        HiddenText() {
            super(String.class);
        }

        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) {
            refuseHiddenAlias(p);
            return read(p);
        }

        @Override
        String read(JsonParser p) {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                throw new InvalidValue("expected a string, got " + kind(p));
            }
            return p.getString();
        }
    }

    /** {@code true} or {@code false}. */
    static final class Flag extends Scalar<Boolean> {

        Flag() {
            super(Boolean.class);
        }

        @Override
        Boolean read(JsonParser p) {
            return switch (p.currentToken()) {
                case VALUE_TRUE -> Boolean.TRUE;
                case VALUE_FALSE -> Boolean.FALSE;
                default -> throw new InvalidValue("expected true or false, got " + describe(p));
            };
        }
    }

    /** A whole number that fits a long. {@code 1e6} is accepted, {@code 1.5} is not. */
    static final class WholeNumber extends Scalar<Long> {

        WholeNumber() {
            super(Long.class);
        }

        @Override
        Long read(JsonParser p) {
            JsonToken token = p.currentToken();
            if (token == JsonToken.VALUE_NUMBER_INT) {
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw outOfRange(p);
                }
                return p.getLongValue();
            }
            if (token != JsonToken.VALUE_NUMBER_FLOAT) {
                throw new InvalidValue("expected a whole number, got " + describe(p));
            }
            BigDecimal value = decimal(p, "a whole number");
            if (value.signum() == 0) {
                return 0L;
            }
            // compared before anything else: 1e99999999 must not be expanded to its hundred million digits
            if (value.compareTo(MIN_LONG) < 0 || value.compareTo(MAX_LONG) > 0) {
                throw outOfRange(p);
            }
            // in range, so the digits left of the point are at most 19 and the rest is bounded by the text
            if (value.stripTrailingZeros().scale() > 0) {
                throw new InvalidValue("expected a whole number, got " + describe(p));
            }
            return value.longValueExact();
        }

        private static InvalidValue outOfRange(JsonParser p) {
            return new InvalidValue(describe(p) + " is out of range (at most " + Long.MAX_VALUE + ")");
        }
    }

    /** Dollars from a string (exact) or a number (read from its text, never through a double). */
    static final class Dollars extends Scalar<Money> {

        private static final String EXPECTED = "dollars as a string such as \"12.50\" or a number";

        Dollars() {
            super(Money.class);
        }

        @Override
        Money read(JsonParser p) {
            try {
                return switch (p.currentToken()) {
                    case VALUE_STRING -> Money.parse(p.getString());
                    case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> Money.of(decimal(p, EXPECTED));
                    default -> throw new InvalidValue("expected " + EXPECTED + ", got " + describe(p));
                };
            } catch (IllegalArgumentException e) {
                throw new InvalidValue(e.getMessage());
            }
        }
    }

    /** An ISO-8601 instant such as {@code 2027-01-01T00:00:00Z}. */
    static final class InstantValue extends Scalar<Instant> {

        InstantValue() {
            super(Instant.class);
        }

        @Override
        Instant read(JsonParser p) {
            String text = text(p);
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw new InvalidValue(describe(p)
                        + " is not an instant (expected ISO-8601 such as 2027-01-01T00:00:00Z)");
            }
        }
    }

    /** A zone id such as {@code UTC}, {@code Europe/Paris} or {@code +01:00}. */
    static final class ZoneValue extends Scalar<ZoneId> {

        ZoneValue() {
            super(ZoneId.class);
        }

        @Override
        ZoneId read(JsonParser p) {
            String text = text(p);
            try {
                return ZoneId.of(text);
            } catch (DateTimeException e) {
                throw new InvalidValue(describe(p)
                        + " is not a time zone (expected an id such as UTC, Europe/Paris or +01:00)");
            }
        }
    }

    /** {@code GLOBAL}, {@code VIRTUAL_KEY} or {@code USER}, in capitals. */
    static final class ScopeValue extends Scalar<ModelConfig.Scope> {

        ScopeValue() {
            super(ModelConfig.Scope.class);
        }

        @Override
        ModelConfig.Scope read(JsonParser p) {
            String text = text(p);
            try {
                return ModelConfig.Scope.valueOf(text);
            } catch (IllegalArgumentException e) {
                throw new InvalidValue(describe(p) + " is not a scope (expected GLOBAL, VIRTUAL_KEY or USER)");
            }
        }
    }

    /** A name that may be given as {@code null}: absent reads as Java null, null as {@link ConfigFormat.Name#NONE}. */
    static final class NameValue extends Scalar<ConfigFormat.Name> {

        NameValue() {
            super(ConfigFormat.Name.class);
        }

        @Override
        ConfigFormat.Name read(JsonParser p) {
            return new ConfigFormat.Name(text(p));
        }

        @Override
        public Object getNullValue(DeserializationContext ctxt) {
            return ConfigFormat.Name.NONE;
        }

        @Override
        public Object getAbsentValue(DeserializationContext ctxt) {
            return null;
        }
    }

    /** Dollars as exact text with at least two decimals: {@code "100.00"}, {@code "0.000123"}. */
    static final class DollarsWriter extends StdSerializer<Money> {

        DollarsWriter() {
            super(Money.class);
        }

        @Override
        public void serialize(Money value, JsonGenerator gen, SerializationContext ctxt) {
            BigDecimal dollars = value.dollars().stripTrailingZeros();
            gen.writeString((dollars.scale() < 2 ? dollars.setScale(2) : dollars).toPlainString());
        }
    }

    /** {@link Instant#toString()}, which {@link Instant#parse} reads back. */
    static final class InstantWriter extends StdSerializer<Instant> {

        InstantWriter() {
            super(Instant.class);
        }

        @Override
        public void serialize(Instant value, JsonGenerator gen, SerializationContext ctxt) {
            gen.writeString(value.toString());
        }
    }

    /** {@link ZoneId#getId()}, which {@link ZoneId#of} reads back. */
    static final class ZoneWriter extends StdSerializer<ZoneId> {

        ZoneWriter() {
            super(ZoneId.class);
        }

        @Override
        public void serialize(ZoneId value, JsonGenerator gen, SerializationContext ctxt) {
            gen.writeString(value.getId());
        }
    }

    /** The name, or {@code null} for {@link ConfigFormat.Name#NONE}. */
    static final class NameWriter extends StdSerializer<ConfigFormat.Name> {

        NameWriter() {
            super(ConfigFormat.Name.class);
        }

        @Override
        public void serialize(ConfigFormat.Name value, JsonGenerator gen, SerializationContext ctxt) {
            if (value.value() == null) {
                gen.writeNull();
            } else {
                gen.writeString(value.value());
            }
        }
    }
}
