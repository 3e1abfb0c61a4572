package io.tollgate.usage;

import io.tollgate.internal.Checks;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads the token usage of an OpenAI-style JSON body: a chat completion, a completion or an embedding answer, or one
 * chunk of a streamed answer. The body must be one JSON object whose {@code usage} member is an object with
 * {@code prompt_tokens}, {@code completion_tokens} and {@code total_tokens}, each a whole number from 0 to
 * 2<sup>63</sup> - 1 or absent:
 * <ul>
 *   <li>an absent input or output count is 0 (an embedding answer has no {@code completion_tokens});</li>
 *   <li>an absent total is input + output;</li>
 *   <li>at least one of the three must be there.</li>
 * </ul>
 *
 * <p>Anything else gives an empty answer, never an exception: no {@code usage} or {@code usage: null} (most chunks of
 * a stream), a count that is negative, fractional, too large or not a number, a total below input + output, a member
 * given twice, text that is not one well-formed JSON object, nesting deeper than {@value #MAX_DEPTH} levels, and a
 * body longer than the size bound, which is refused before it is read. Every body is read once, in one pass that
 * keeps no tree, so the work is bounded by the size bound.
 *
 * <p>Immutable and thread-safe.
 */
public final class OpenAiUsageExtractor {

    /** The default bound on a body: 8 MiB, far above an answer with usage, small enough to read in milliseconds. */
    public static final int DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
    /** How deep a body may nest objects and arrays: an answer nests a few levels, a deeper body is not one. */
    public static final int MAX_DEPTH = 64;

    private static final JsonFactory JSON = JsonFactory.builder()
            // set here, so that a process-wide override of Jackson's defaults cannot loosen them
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_DEPTH)
                    .maxNumberLength(1_000)
                    .maxNameLength(50_000)
                    // the bound on a body bounds its strings
                    .maxStringLength(Integer.MAX_VALUE)
                    .build())
            .build();
    private static final OpenAiUsageExtractor DEFAULT = new OpenAiUsageExtractor(DEFAULT_MAX_BODY_BYTES);

    private final int maxBodyBytes;

    private OpenAiUsageExtractor(int maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    /** An extractor that reads bodies up to {@value #DEFAULT_MAX_BODY_BYTES} bytes. */
    public static OpenAiUsageExtractor create() {
        return DEFAULT;
    }

    /**
     * An extractor that reads bodies up to {@code maxBodyBytes}; a longer body gives an empty answer unread.
     *
     * @throws IllegalArgumentException if the bound is not positive
     */
    public static OpenAiUsageExtractor withMaxBodyBytes(int maxBodyBytes) {
        Checks.positive("OpenAiUsageExtractor.maxBodyBytes", maxBodyBytes);
        return new OpenAiUsageExtractor(maxBodyBytes);
    }

    /** The bound on a body, in bytes. */
    public int maxBodyBytes() {
        return maxBodyBytes;
    }

    /** The usage of a UTF-8 body; empty when it has none or it is malformed. */
    public Optional<TokenUsage> extract(byte[] body) {
        Objects.requireNonNull(body, "body");
        return extract(body, 0, body.length);
    }

    /** The usage of the UTF-8 body in {@code length} bytes of {@code bytes} from {@code offset}. */
    public Optional<TokenUsage> extract(byte[] bytes, int offset, int length) {
        Objects.requireNonNull(bytes, "bytes");
        Objects.checkFromIndexSize(offset, length, bytes.length);
        if (length > maxBodyBytes) {
            return Optional.empty();
        }
        try (JsonParser parser = JSON.createParser(ObjectReadContext.empty(), bytes, offset, length)) {
            return Optional.ofNullable(read(parser));
        } catch (JacksonException e) {
            return Optional.empty();
        }
    }

    /** The usage of a body given as text, bounded by its length in UTF-8. */
    public Optional<TokenUsage> extract(String body) {
        Objects.requireNonNull(body, "body");
        // every character takes at least one byte: a text this long cannot fit, so it is not encoded at all
        if (body.length() > maxBodyBytes) {
            return Optional.empty();
        }
        return extract(body.getBytes(StandardCharsets.UTF_8));
    }

    /** The usage of the whole document, or null. */
    private static TokenUsage read(JsonParser parser) {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            return null;
        }
        TokenUsage usage = null;
        boolean usageSeen = false;
        JsonToken token;
        while ((token = parser.nextToken()) == JsonToken.PROPERTY_NAME) {
            String name = parser.currentName();
            parser.nextToken();
            if (!"usage".equals(name)) {
                parser.skipChildren();
                continue;
            }
            if (usageSeen) {
                return null;
            }
            usageSeen = true;
            usage = readUsage(parser);
            if (usage == null) {
                return null;
            }
        }
        // the object must close and nothing may follow it
        if (token != JsonToken.END_OBJECT || parser.nextToken() != null) {
            return null;
        }
        return usage;
    }

    /** The usage object the parser stands on, or null when it is null, malformed or empty. */
    private static TokenUsage readUsage(JsonParser parser) {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            return null;
        }
        long input = -1;
        long output = -1;
        long total = -1;
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String name = parser.currentName();
            parser.nextToken();
            switch (name) {
                case "prompt_tokens" -> {
                    if (input >= 0 || (input = count(parser)) < 0) {
                        return null;
                    }
                }
                case "completion_tokens" -> {
                    if (output >= 0 || (output = count(parser)) < 0) {
                        return null;
                    }
                }
                case "total_tokens" -> {
                    if (total >= 0 || (total = count(parser)) < 0) {
                        return null;
                    }
                }
                // details such as prompt_tokens_details: not needed for a charge
                default -> parser.skipChildren();
            }
        }
        if (input < 0 && output < 0 && total < 0) {
            return null;
        }
        long in = Math.max(input, 0);
        long out = Math.max(output, 0);
        if (in > Long.MAX_VALUE - out) {
            return null;
        }
        long sum = in + out;
        if (total < 0) {
            total = sum;
        }
        return total < sum ? null : new TokenUsage(in, out, total);
    }

    /** The whole, non-negative count the parser stands on that fits a long, or -1. */
    private static long count(JsonParser parser) {
        if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT) {
            return -1;
        }
        JsonParser.NumberType type = parser.getNumberType();
        if (type != JsonParser.NumberType.INT && type != JsonParser.NumberType.LONG) {
            return -1;
        }
        long value = parser.getLongValue();
        return value < 0 ? -1 : value;
    }

    @Override
    public String toString() {
        return "OpenAiUsageExtractor[maxBodyBytes=" + maxBodyBytes + "]";
    }
}
