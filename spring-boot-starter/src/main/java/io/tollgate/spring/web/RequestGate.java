package io.tollgate.spring.web;

import io.tollgate.CheckRequest;
import io.tollgate.spring.TollgateProperties;
import io.tollgate.spring.TollgateRequest;
import io.tollgate.spring.TollgateRequestResolver;
import org.springframework.http.MediaType;
import org.springframework.util.unit.DataSize;

import java.util.UUID;

/**
 * What every filter does before it checks: whether to read the body, the resolver's check, and the answers that end a
 * request before any check (400 for a request the resolver refuses, 401 without a virtual key where one is required).
 *
 * <p>Immutable and thread-safe.
 *
 * @param check   the check to make, or null
 * @param refusal the answer that ends the request now, or null
 */
public record RequestGate(CheckRequest check, DenialAnswer refusal) {

    /** The gate for {@code request}: a refusal, a check, or neither (the request goes on unchecked). */
    public static RequestGate of(TollgateRequestResolver requests, TollgateRequest request,
                                 TollgateProperties.Filter filter) {
        CheckRequest check;
        try {
            check = requests.resolve(request);
        } catch (IllegalArgumentException e) {
            return new RequestGate(null, DenialAnswer.badRequest(400, "bad_request", e.getMessage()));
        }
        if (check != null && check.virtualKey() == null && filter.isRequireVirtualKey()) {
            return new RequestGate(null, DenialAnswer.noVirtualKey());
        }
        return new RequestGate(check, null);
    }

    /** Whether a request of {@code method} and {@code type} (may be null) has a JSON body worth reading. */
    public static boolean hasJsonBody(String method, MediaType type) {
        if (!"POST".equals(method) && !"PUT".equals(method) && !"PATCH".equals(method)) {
            return false;
        }
        return type != null && (type.isCompatibleWith(MediaType.APPLICATION_JSON)
                || type.getSubtype().endsWith("+json"));
    }

    /** The request's id from its header, or a random one. */
    public static String requestId(String header) {
        return header == null || header.isBlank() ? UUID.randomUUID().toString() : header;
    }

    /** A size bound as an array length. */
    public static int bytes(DataSize size) {
        return (int) Math.min(Integer.MAX_VALUE - 8, size.toBytes());
    }
}
