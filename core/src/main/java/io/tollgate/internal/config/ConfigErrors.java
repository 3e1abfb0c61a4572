package io.tollgate.internal.config;

import io.tollgate.ConfigException;
import io.tollgate.internal.Checks;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamContext;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.JacksonIOException;
import tools.jackson.core.io.ContentReference;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.deser.DeserializationProblemHandler;
import tools.jackson.databind.exc.InvalidNullException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

import java.lang.reflect.RecordComponent;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns what Jackson throws into a {@link ConfigException} whose message starts with the path of the bad value
 * ({@code virtualKeys[2].budgets[0].resetPeriod: ...}). Binding errors take the path Jackson recorded while the
 * exception travelled up through the records; syntax errors and limits take the parser's position, which also
 * names the field being read. No message quotes the input beyond the value at fault, and none a secret: Jackson's
 * and SnakeYAML's own texts are used only in the parts that hold no input.
 */
final class ConfigErrors {

    /** Jackson quotes unrecognized tokens in full; an unquoted secret would end up in the message. */
    private static final Pattern QUOTED_TOKEN = Pattern.compile("(Unrecognized token) '[^']*'");

    /** Locations inside Jackson's messages; ours say "line 3, column 7". */
    private static final Pattern SOURCE_LOCATION =
            Pattern.compile("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)]");

    /** Where Jackson says which setting a limit comes from; the limit itself stays in the message. */
    private static final Pattern CONSTRAINT_SOURCE = Pattern.compile(", from `[^`]*`");

    /**
     * A location Jackson 3 can only give as an offset, unknown for text input: the start of the array or object left
     * open ("start marker at ...", "for Object starting at ...").
     */
    private static final Pattern OPEN_AT = Pattern.compile("\\[Source: [^\\]]*]");

    /** SnakeYAML quotes the characters of a bad escape: up to eight characters of a string that may be a secret. */
    private static final Pattern ESCAPE_DIGITS = Pattern.compile("(hexadecimal numbers, but found):? .*");

    private static final Pattern DUPLICATE = Pattern.compile("Duplicate Object property \"([^\"]*)\"");

    private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$-]*");

    private ConfigErrors() {
    }

    /**
     * The configuration error {@code e} stands for. {@code parser} is the one that was reading (null if it could not
     * be opened); its position names the field of a syntax error.
     */
    static ConfigException translate(JacksonException e, JsonParser parser, ConfigMapper.Format format) {
        // a report from the value readers or the model's constructors, wrapped by Jackson on its way up
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidValue invalid) {
                return new ConfigException(join(path(e), invalid.field()) + ": " + invalid.getMessage());
            }
            if (t instanceof IllegalArgumentException || t instanceof NullPointerException) {
                // their messages name the field ("Team.customerId: ..."), so the object's path goes first
                return new ConfigException(prefix(path(e)) + t.getMessage(), t);
            }
        }
        if (e instanceof UnrecognizedPropertyException unknown) {
            return new ConfigException(path(e) + ": unknown field (expected one of "
                    + fieldsOf(unknown.getReferringClass()) + ")");
        }
        if (e instanceof InvalidNullException) {
            // nulls are refused only inside lists; model lists hold strings, the others objects
            boolean text = String.class.equals(((InvalidNullException) e).getTargetType());
            String expected = text ? "a string" : "an object";
            return new ConfigException(path(e) + ": expected " + expected + ", got null");
        }
        if (e instanceof StreamConstraintsException) {
            String reason = CONSTRAINT_SOURCE.matcher(String.valueOf(e.getOriginalMessage())).replaceAll("");
            // the document as a whole is too long, wherever the reader (which reads ahead) happened to be
            boolean whole = reason.startsWith("Document length");
            return new ConfigException(prefix(whole ? "" : parserPath(parser)) + "over a limit"
                    + (whole ? "" : limitAt(e.getLocation(), parser)) + ": " + reason);
        }
        if (e instanceof JacksonIOException) {
            return new ConfigException("cannot read the configuration: " + e.getCause(), e.getCause());
        }
        if (e instanceof StreamReadException) {
            return malformed(e, parser, format);
        }
        // not expected from these records; Jackson's text names types and the path, not the input
        return new ConfigException(prefix(path(e)) + e.getOriginalMessage());
    }

    /** Line, column and path of a syntax error; the cause is dropped because its message may quote the file. */
    private static ConfigException malformed(JacksonException e, JsonParser parser, ConfigMapper.Format format) {
        String where;
        String reason;
        if (e.getCause() instanceof MarkedYamlEngineException yaml) {
            // SnakeYAML's full message shows the offending line of the file; its problem and context do not
            where = yaml.getProblemMark().map(ConfigErrors::at).orElse(at(e.getLocation(), parser));
            String problem = ESCAPE_DIGITS.matcher(yaml.getProblem()).replaceAll("$1 other characters");
            reason = yaml.getContext() == null ? problem : yaml.getContext() + ": " + problem;
        } else if (e.getCause() instanceof YamlEngineException yaml) {
            // unmarked: the input could not be decoded (bad UTF-8, say), which has no place in the YAML
            where = limitAt(e.getLocation(), parser);
            reason = yaml.getCause() != null ? yaml.getCause().getMessage() : yaml.getMessage();
        } else {
            where = at(e.getLocation(), parser);
            reason = QUOTED_TOKEN.matcher(String.valueOf(e.getOriginalMessage())).replaceAll("$1");
            reason = SOURCE_LOCATION.matcher(reason).replaceAll("line $1, column $2");
            reason = DUPLICATE.matcher(reason).replaceAll("Duplicate field '$1'");
            reason = OPEN_AT.matcher(reason).replaceAll(Matcher.quoteReplacement(openedAt(parser)));
        }
        return new ConfigException(prefix(parserPath(parser)) + "malformed " + format.displayName() + where + ": "
                + reason);
    }

    /** The error for content after the one top-level object or mapping. */
    static ConfigException trailingContent(JsonParser parser, ConfigMapper.Format format) {
        return new ConfigException("malformed " + format.displayName() + at(parser.currentTokenLocation(), null)
                + ": more content after the top-level " + format.objectName());
    }

    private static String at(TokenStreamLocation location, JsonParser parser) {
        TokenStreamLocation at = location != null && location.getLineNr() > 0 ? location
                : parser == null ? null : parser.currentLocation();
        return at == null || at.getLineNr() <= 0 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    /**
     * Where a limit was reached or the input could not be decoded: nowhere while the parser is still at the start,
     * as it has read nothing yet, and that position would mislead.
     */
    private static String limitAt(TokenStreamLocation location, JsonParser parser) {
        String at = at(location, parser);
        return at.equals(" at line 1, column 1") ? "" : at;
    }

    /** Where the innermost open array or object started: the one an unexpected end or close leaves unclosed. */
    private static String openedAt(JsonParser parser) {
        TokenStreamContext open = parser == null ? null : parser.streamReadContext();
        if (open == null || open.inRoot()) {
            return "an unknown place";
        }
        TokenStreamLocation start = open.startLocation(ContentReference.unknown());
        return "line " + start.getLineNr() + ", column " + start.getColumnNr();
    }

    private static String at(Mark mark) {
        return " at line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }

    /** The path Jackson recorded: property names and list indexes, outermost first. */
    private static String path(JacksonException e) {
        StringBuilder path = new StringBuilder();
        for (JacksonException.Reference ref : e.getPath()) {
            if (ref.getPropertyName() != null) {
                appendName(path, ref.getPropertyName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    /** The parser's position: the open objects and arrays, and the field last named in the innermost. */
    private static String parserPath(JsonParser parser) {
        if (parser == null) {
            return "";
        }
        Deque<TokenStreamContext> contexts = new ArrayDeque<>();
        for (TokenStreamContext c = parser.streamReadContext(); c != null && !c.inRoot(); c = c.getParent()) {
            contexts.push(c);
        }
        StringBuilder path = new StringBuilder();
        for (TokenStreamContext c : contexts) {
            if (c.inArray()) {
                // before the first element is read, the index is -1: the array itself
                if (c.getCurrentIndex() >= 0 && c.getEntryCount() > 0) {
                    path.append('[').append(c.getCurrentIndex()).append(']');
                }
            } else if (c.currentName() != null) {
                appendName(path, c.currentName());
            }
        }
        return path.toString();
    }

    private static void appendName(StringBuilder path, String name) {
        if (!path.isEmpty()) {
            path.append('.');
        }
        // field names come from the input: an odd one is quoted, escaped and cut like any other value
        path.append(PLAIN_NAME.matcher(name).matches() && name.length() <= Checks.MAX_QUOTED_LENGTH
                ? name : Checks.quote(name));
    }

    private static String join(String path, String field) {
        if (field.isEmpty()) {
            return path;
        }
        if (path.isEmpty() || field.startsWith("[")) {
            return path + field;
        }
        return path + "." + field;
    }

    private static String prefix(String path) {
        return path.isEmpty() ? "" : path + ": ";
    }

    /** The fields of a format record, in the order it declares them. */
    private static String fieldsOf(Class<?> record) {
        if (record == null || !record.isRecord()) {
            return "no other";
        }
        return Arrays.stream(record.getRecordComponents()).map(RecordComponent::getName)
                .collect(Collectors.joining(", "));
    }

    /**
     * Words the value readers' errors for containers: a list or a model list of the wrong kind. Jackson's own message
     * names Java types, which a configuration's author does not know.
     */
    static final class ProblemHandler extends DeserializationProblemHandler {

        @Override
        public Object handleUnexpectedToken(DeserializationContext ctxt, JavaType targetType, JsonToken t,
                                            JsonParser p, String failureMsg) {
            if (!targetType.isCollectionLikeType()) {
                return NOT_HANDLED;
            }
            ConfigValues.refuseAlias(p);
            JavaType content = targetType.getContentType();
            String expected = content != null && content.hasRawClass(String.class) ? "an array of strings" : "an array";
            throw new InvalidValue("expected " + expected + ", got " + ConfigValues.describe(p));
        }
    }
}
