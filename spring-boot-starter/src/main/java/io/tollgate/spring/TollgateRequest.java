package io.tollgate.spring;

import org.springframework.http.HttpHeaders;

import java.util.Objects;
import java.util.Optional;

/**
 * What a filter knows of an incoming HTTP request when it asks the {@link TollgateRequestResolver} for its check:
 * method, path, headers, the body when it was read (a JSON body of a POST, PUT or PATCH, within
 * {@code tollgate.filter.max-body-size}), and what the route says of provider and model (a gateway route's filter
 * arguments).
 *
 * <p>Immutable and thread-safe; {@link #body()} returns the filter's own array, which a resolver must not change.
 */
public final class TollgateRequest {

    private static final byte[] NO_BODY = new byte[0];

    private final String method;
    private final String path;
    private final HttpHeaders headers;
    private final byte[] body;
    private final String routeProvider;
    private final String routeModel;

    public TollgateRequest(String method, String path, HttpHeaders headers, byte[] body, String routeProvider,
                           String routeModel) {
        this.method = Objects.requireNonNull(method, "method");
        this.path = Objects.requireNonNull(path, "path");
        this.headers = HttpHeaders.readOnlyHttpHeaders(Objects.requireNonNull(headers, "headers"));
        this.body = body == null ? NO_BODY : body;
        this.routeProvider = routeProvider;
        this.routeModel = routeModel;
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    public HttpHeaders headers() {
        return headers;
    }

    /** The first value of the header {@code name} (case-insensitive), if present and not blank. */
    public Optional<String> header(String name) {
        String value = headers.getFirst(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    /** The body as read, or an empty array when it was not read. */
    public byte[] body() {
        return body;
    }

    /** The provider the route names, if any. */
    public Optional<String> routeProvider() {
        return Optional.ofNullable(routeProvider);
    }

    /** The model the route names, if any. */
    public Optional<String> routeModel() {
        return Optional.ofNullable(routeModel);
    }

    @Override
    public String toString() {
        // never the headers: they carry the secret
        return "TollgateRequest[" + method + " " + path + ", body " + body.length + " bytes]";
    }
}
