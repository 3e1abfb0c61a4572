package io.tollgate.spring.web;

import io.tollgate.Decision;
import io.tollgate.Limit;
import io.tollgate.LimitUsage;
import io.tollgate.Outcome;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * What a filter answers to a denied request: the decision's status and headers ({@code Retry-After}, rate-limit
 * fields) and an OpenAI-style JSON error body, such as
 * {@code {"error":{"type":"tollgate","code":"request_limited","message":"requests limit of team 'research'
 * reached","retry_after_seconds":12}}}. It names the limit's holder by kind and id, never a secret.
 *
 * <p>Immutable and thread-safe.
 */
public record DenialAnswer(int status, Map<String, String> headers, byte[] body) {

    /** The JSON content type of {@link #body()}. */
    public static final String CONTENT_TYPE = "application/json";

    public static DenialAnswer of(Decision decision, Map<String, String> headers) {
        return new DenialAnswer(decision.httpStatus(), headers, body(decision).getBytes(StandardCharsets.UTF_8));
    }

    /** The answer to a request without a virtual key, where one is required. */
    public static DenialAnswer noVirtualKey() {
        DenialAnswer answer = badRequest(401, "virtual_key_missing",
                "no virtual key: send it as Authorization: Bearer <virtual key>");
        return new DenialAnswer(answer.status(), Map.of("WWW-Authenticate", "Bearer"), answer.body());
    }

    /**
     * The answer to a request whose check failed because the store could not answer (a Redis store without a
     * resilient store in front, while Redis is down): refused, to be tried again shortly.
     */
    public static DenialAnswer storeUnavailable() {
        DenialAnswer answer = badRequest(503, "store_unavailable", "limits cannot be checked now; retry shortly");
        return new DenialAnswer(answer.status(), Map.of("Retry-After", "1"), answer.body());
    }

    /** The answer to a request a filter cannot check as it is (a header that is not well-formed text, say). */
    public static DenialAnswer badRequest(int status, String code, String message) {
        String body = "{\"error\":{\"type\":\"tollgate\",\"code\":\"" + code + "\",\"message\":\"" + escape(message)
                + "\"}}";
        return new DenialAnswer(status, Map.of(), body.getBytes(StandardCharsets.UTF_8));
    }

    private static String body(Decision decision) {
        StringBuilder json = new StringBuilder(160).append("{\"error\":{\"type\":\"tollgate\",\"code\":\"")
                .append(decision.outcome().name().toLowerCase(Locale.ROOT)).append("\",\"message\":\"")
                .append(escape(message(decision))).append('"');
        decision.retryAfter().ifPresent(retry -> json.append(",\"retry_after_seconds\":")
                .append(Math.max(1, (retry.toMillis() + 999) / 1000)));
        return json.append("}}").toString();
    }

    private static String message(Decision decision) {
        Outcome outcome = decision.outcome();
        return switch (outcome) {
            case VIRTUAL_KEY_NOT_FOUND -> "no virtual key matches the bearer token";
            case VIRTUAL_KEY_BLOCKED -> "the virtual key is inactive or expired";
            case PROVIDER_BLOCKED -> "the virtual key may not use this provider";
            case MODEL_BLOCKED -> "the virtual key may not use this model";
            case STORE_UNAVAILABLE -> "limits cannot be checked now; retry shortly";
            default -> decision.deniedBy().map(DenialAnswer::limitReached)
                    .orElse(outcome.name().toLowerCase(Locale.ROOT).replace('_', ' '));
        };
    }

    private static String limitReached(LimitUsage usage) {
        Limit limit = usage.limit();
        String metric = switch (limit.metric()) {
            case REQUESTS -> "requests limit";
            case TOKENS -> "tokens limit";
            case COST -> "budget";
            case IN_FLIGHT -> "limit of requests in flight";
        };
        return metric + " of " + limit.holder().kind().name().toLowerCase(Locale.ROOT).replace('_', ' ') + " '"
                + limit.holder().id() + "' reached";
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
