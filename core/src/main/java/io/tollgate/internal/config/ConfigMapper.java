package io.tollgate.internal.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import io.tollgate.ConfigException;
import io.tollgate.GovernanceConfig;
import org.snakeyaml.engine.v2.api.LoadSettings;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.DefaultIndenter;
import tools.jackson.core.util.DefaultPrettyPrinter;
import tools.jackson.core.util.Separators;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.cfg.MapperBuilder;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.UTF8Reader;
import tools.jackson.dataformat.yaml.YAMLFactory;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

import java.io.InputStream;
import java.io.StringReader;
import java.util.Objects;
import java.util.function.Function;

/**
 * Reads and writes a {@link GovernanceConfig} in one of the two syntaxes of the configuration format, through
 * Jackson's data binding onto the records of {@link ConfigFormat}.
 *
 * <p>Hostile input is refused early, by limits on what the parser accepts ({@link StreamReadConstraints}); each
 * limit is far above what a configuration needs, and low enough that reaching it takes a fraction of a second:
 * <ul>
 *   <li>{@value #MAX_JSON_DOCUMENT_CHARS} characters (bytes, from a stream) in a JSON document: a virtual key takes
 *       about 500, so over 100,000 keys fit; reading that much takes about 0.2 s.</li>
 *   <li>{@value #MAX_YAML_DOCUMENT_CHARS} characters in a YAML document, and {@value #MAX_YAML_LINE_CHARS} in one of
 *       its lines: SnakeYAML is several times slower than Jackson's JSON parser (8 MiB of a quoted value on short
 *       lines takes about 0.15 s), and copies the unread rest of a line whenever it reads on, so that an unbroken
 *       value costs time growing with the square of its length (50 MB took minutes). With lines bounded and
 *       {@value #YAML_BUFFER_CHARS}-character reads (rather than 1,024), the cost is linear again.</li>
 *   <li>{@value #MAX_STRING_LENGTH} characters in one string value, {@value #MAX_NAME_LENGTH} in a field name: ids,
 *       names, periods, amounts and secrets are far shorter, and the format's longest field name has 18.</li>
 *   <li>{@value #MAX_NUMBER_LENGTH} characters in a number (an amount with nine decimals takes 20).</li>
 *   <li>{@value #MAX_NESTING_DEPTH} levels of nesting (the format has 7). Every position of the format has a type, so
 *       a wrong shape is refused at its first level anyway; this bounds whatever reads further.</li>
 * </ul>
 * The total number of tokens is not limited: the document's length bounds it. Values are then read by
 * {@link ConfigValues}, which refuses out-of-range numbers before any arithmetic whose cost grows with the exponent,
 * and YAML aliases outright, so no document expands.
 *
 * <p>Thread-safe: both mappers are immutable once built.
 */
public final class ConfigMapper {

    /** Characters (bytes for a stream) in one JSON document. */
    public static final int MAX_JSON_DOCUMENT_CHARS = 64 * 1024 * 1024;
    /** Characters (bytes for a stream) in one YAML document. */
    public static final int MAX_YAML_DOCUMENT_CHARS = 8 * 1024 * 1024;
    /** Characters in one line of YAML; see {@link YamlText} for why lines are bounded. */
    public static final int MAX_YAML_LINE_CHARS = 1024 * 1024;
    /** How much SnakeYAML reads at once; each read copies the unconsumed rest of a line, so fewer reads cost less. */
    static final int YAML_BUFFER_CHARS = 1024 * 1024;
    /** Characters in one string value. */
    public static final int MAX_STRING_LENGTH = 16 * 1024;
    /** Characters in one field name. */
    public static final int MAX_NAME_LENGTH = 256;
    /** Characters in one number: digits, sign, point and exponent. */
    public static final int MAX_NUMBER_LENGTH = 100;
    /** Open objects and arrays at once. */
    public static final int MAX_NESTING_DEPTH = 32;

    /** The configuration as JSON. */
    public static final ConfigMapper JSON = new ConfigMapper(Format.JSON, configure(JsonMapper.builder(
            JsonFactory.builder().streamReadConstraints(constraints(MAX_JSON_DOCUMENT_CHARS)).build())).build());

    /** The configuration as YAML: the same objects and fields as JSON, in YAML's syntax. */
    public static final ConfigMapper YAML = new ConfigMapper(Format.YAML,
            configure(YAMLMapper.builder(YAMLFactory.builder()
                    .streamReadConstraints(constraints(MAX_YAML_DOCUMENT_CHARS))
                    // the document limit is Jackson's, counted as SnakeYAML reads, so that both syntaxes report it
                    // alike; SnakeYAML's own (3 MB by default) is left above it
                    .loadSettings(LoadSettings.builder()
                            .setCodePointLimit(Integer.MAX_VALUE)
                            .setBufferSize(YAML_BUFFER_CHARS)
                            .build())
                    .disable(YAMLWriteFeature.WRITE_DOC_START_MARKER)
                    .enable(YAMLWriteFeature.MINIMIZE_QUOTES)
                    // amounts are written as strings, as in JSON; quotes keep them strings
                    .enable(YAMLWriteFeature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                    .build())).build());

    private static final ObjectWriter PRETTY_JSON;

    static {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectNameValueSpacing(Separators.Spacing.AFTER))
                .withObjectIndenter(indenter)
                .withArrayIndenter(indenter);
        PRETTY_JSON = JSON.mapper.writer().with(printer);
    }

    /** A syntax of the format, with the words its messages use. */
    public enum Format {
        JSON("JSON", "object"),
        YAML("YAML", "mapping");

        private final String displayName;
        private final String objectName;

        Format(String displayName, String objectName) {
            this.displayName = displayName;
            this.objectName = objectName;
        }

        /** The longest document of this syntax that is read. */
        public int maxDocumentChars() {
            return this == JSON ? MAX_JSON_DOCUMENT_CHARS : MAX_YAML_DOCUMENT_CHARS;
        }

        /** {@code JSON} or {@code YAML}. */
        public String displayName() {
            return displayName;
        }

        /** What the syntax calls the top-level value: {@code object} or {@code mapping}. */
        public String objectName() {
            return objectName;
        }
    }

    private final Format format;
    private final ObjectMapper mapper;

    private ConfigMapper(Format format, ObjectMapper mapper) {
        this.format = format;
        this.mapper = mapper;
    }

    private static StreamReadConstraints constraints(int maxDocumentChars) {
        return StreamReadConstraints.builder()
                .maxDocumentLength(maxDocumentChars)
                .maxStringLength(MAX_STRING_LENGTH)
                .maxNameLength(MAX_NAME_LENGTH)
                .maxNumberLength(MAX_NUMBER_LENGTH)
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .build();
    }

    private static <M extends ObjectMapper, B extends MapperBuilder<M, B>> B configure(B builder) {
        return builder
                .addModule(ConfigValues.module())
                .addModule(ConfigFormat.module())
                .addHandler(new ConfigErrors.ProblemHandler())
                // a typo must never be silently ignored
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                // checked by the reader itself, for a message in the format's words
                .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                // a key given twice is almost always a mistake; silently keeping the last one would hide it
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                // the caller opened the stream, the caller closes it
                .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
                // parse errors must not quote the file: it may hold a secret
                .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                // a null inside a list is an error; a null field means the same as leaving it out
                .changeDefaultNullHandling(nulls -> JsonSetter.Value.forContentNulls(Nulls.FAIL))
                // records leave out fields that hold their default by setting them to null
                .changeDefaultPropertyInclusion(inclusion -> JsonInclude.Value.construct(
                        JsonInclude.Include.NON_NULL, JsonInclude.Include.NON_NULL));
    }

    /** Which syntax this mapper reads and writes. */
    public Format format() {
        return format;
    }

    /** Reads a whole configuration from text. */
    public GovernanceConfig parse(String text) {
        Objects.requireNonNull(text, "text");
        // refused before a parser is made: a String input is read from memory, with no length check of Jackson's
        if (text.length() > format.maxDocumentChars()) {
            throw new ConfigException("over a limit: Document length (" + text.length()
                    + ") exceeds the maximum allowed (" + format.maxDocumentChars() + ")");
        }
        return read(format == Format.YAML
                ? mapper -> mapper.createParser(new YamlText(new StringReader(text)))
                : mapper -> mapper.createParser(text));
    }

    /**
     * Reads a whole configuration from {@code in}, which is left open: JSON in UTF-8 (or UTF-16/32, which Jackson
     * detects), YAML in UTF-8.
     */
    public GovernanceConfig read(InputStream in) {
        Objects.requireNonNull(in, "in");
        return read(format == Format.YAML
                // Jackson's own strict UTF-8 decoder, as it would use; left open like the stream
                ? mapper -> mapper.createParser(new YamlText(new UTF8Reader(in, false)))
                : mapper -> mapper.createParser(in));
    }

    /** The configuration as text that {@link #parse(String)} reads back to an equal configuration. */
    public String write(GovernanceConfig config) {
        Objects.requireNonNull(config, "config");
        ObjectWriter writer = format == Format.JSON ? PRETTY_JSON : mapper.writer();
        String text = writer.writeValueAsString(config);
        return text.endsWith("\n") ? text : text + "\n";
    }

    private GovernanceConfig read(Function<ObjectMapper, JsonParser> open) {
        JsonParser parser = null;
        try (JsonParser p = open.apply(mapper)) {
            parser = p;
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new ConfigException("the configuration is empty (expected a " + format.displayName() + " "
                        + format.objectName() + ")");
            }
            if (first != JsonToken.START_OBJECT) {
                ConfigValues.refuseAlias(p);
                throw new ConfigException("the configuration must be a " + format.displayName() + " "
                        + format.objectName() + ", got " + ConfigValues.describe(p));
            }
            GovernanceConfig config = mapper.readValue(p, GovernanceConfig.class);
            if (p.nextToken() != null) {
                throw ConfigErrors.trailingContent(p, format);
            }
            return config;
        } catch (JacksonException e) {
            throw ConfigErrors.translate(e, parser, format);
        } catch (InvalidValue e) {
            // the top-level value itself, read outside any record
            throw new ConfigException(e.getMessage());
        } catch (IllegalArgumentException | NullPointerException e) {
            // GovernanceConfig's own checks, on the whole file: their messages start with the path
            throw new ConfigException(e.getMessage(), e);
        }
    }
}
