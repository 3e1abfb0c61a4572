package io.tollgate.spring;

import io.tollgate.CheckRequest;
import io.tollgate.spring.TollgateProperties.Filter;
import org.springframework.http.HttpHeaders;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;

import java.util.Locale;

/**
 * The check of an OpenAI-style request:
 * <ul>
 *   <li>virtual key: {@code Authorization: Bearer <secret>} (none: the resolver answers 401);</li>
 *   <li>user: the {@code tollgate.filter.user-header} ({@code x-tollgate-user});</li>
 *   <li>provider: the route's, else the {@code provider-header}, else {@code tollgate.filter.default-provider};</li>
 *   <li>model: the route's, else the {@code model-header}, else the body's top-level {@code "model"};</li>
 *   <li>estimate: the body's top-level {@code max_completion_tokens}, else {@code max_tokens}, reserved at check and
 *       given back by the charge (turned off by {@code estimate-from-max-tokens: false}).</li>
 * </ul>
 * Only the body's top level is read, with a streaming parser: nested values are skipped, not built.
 *
 * <p>Thread-safe and non-blocking.
 */
public class DefaultTollgateRequestResolver implements TollgateRequestResolver {

    private static final String BEARER = "bearer ";
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build();

    private final Filter filter;

    public DefaultTollgateRequestResolver(Filter filter) {
        this.filter = filter;
    }

    @Override
    public CheckRequest resolve(TollgateRequest request) {
        BodyFields body = BodyFields.read(request.body());
        CheckRequest.Builder check = CheckRequest.builder()
                .virtualKey(bearer(request.headers()))
                .user(request.header(filter.getUserHeader()).orElse(null))
                .provider(request.routeProvider().or(() -> request.header(filter.getProviderHeader()))
                        .orElse(filter.getDefaultProvider()))
                .model(request.routeModel().or(() -> request.header(filter.getModelHeader())).orElse(body.model));
        if (filter.isEstimateFromMaxTokens() && body.maxTokens > 0) {
            check.estimatedTokens(body.maxTokens);
        }
        return check.build();
    }

    /** The secret of {@code Authorization: Bearer <secret>}, or null. */
    static String bearer(HttpHeaders headers) {
        String authorization = headers.getFirst(HttpHeaders.AUTHORIZATION);
        if (authorization == null || authorization.length() <= BEARER.length()
                || !authorization.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
            return null;
        }
        String secret = authorization.substring(BEARER.length()).trim();
        return secret.isEmpty() ? null : secret;
    }

    /** The top-level fields of a JSON body that a check uses; nothing when the body is not a JSON object. */
    private record BodyFields(String model, long maxTokens) {

        static final BodyFields NONE = new BodyFields(null, 0);

        static BodyFields read(byte[] body) {
            if (body.length == 0) {
                return NONE;
            }
            String model = null;
            long maxTokens = 0;
            long maxCompletionTokens = 0;
            try (JsonParser parser = JSON.createParser(ObjectReadContext.empty(), body)) {
                if (parser.nextToken() != JsonToken.START_OBJECT) {
                    return NONE;
                }
                while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
                    String name = parser.currentName();
                    JsonToken value = parser.nextToken();
                    switch (name) {
                        case "model" -> model = value == JsonToken.VALUE_STRING ? parser.getString() : model;
                        case "max_tokens" -> maxTokens = count(parser, value);
                        case "max_completion_tokens" -> maxCompletionTokens = count(parser, value);
                        default -> parser.skipChildren();
                    }
                }
            } catch (JacksonException e) {
                // not JSON, or not the JSON we know: the check goes on without what the body would have said
                return NONE;
            }
            return new BodyFields(model == null || model.isBlank() ? null : model,
                    maxCompletionTokens > 0 ? maxCompletionTokens : maxTokens);
        }

        private static long count(JsonParser parser, JsonToken value) {
            if (value != JsonToken.VALUE_NUMBER_INT || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                return 0;
            }
            return Math.max(0, parser.getLongValue());
        }
    }
}
