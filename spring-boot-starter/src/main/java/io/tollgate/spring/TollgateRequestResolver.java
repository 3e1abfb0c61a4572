package io.tollgate.spring;

import io.tollgate.CheckRequest;

/**
 * How an HTTP request becomes a {@link CheckRequest}; replace the bean to decide it your way (as Spring Cloud
 * Gateway's {@code KeyResolver} does for its rate limiter). The default, {@link DefaultTollgateRequestResolver}, takes
 * the virtual key from {@code Authorization: Bearer}, the user, provider and model from headers, the route or the
 * OpenAI-style body, and the token estimate from the body's {@code max_tokens}.
 *
 * <p>Called on the request's thread, which is an event-loop thread in WebFlux and Spring Cloud Gateway: an
 * implementation must not block. It must be thread-safe.
 */
@FunctionalInterface
public interface TollgateRequestResolver {

    /**
     * The check for {@code request}, or {@code null} to let it through unchecked and uncharged (a health probe, say).
     * An {@link IllegalArgumentException} (a header that is not well-formed text, say) is answered with 400.
     */
    CheckRequest resolve(TollgateRequest request);
}
