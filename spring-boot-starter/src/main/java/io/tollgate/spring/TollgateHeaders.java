package io.tollgate.spring;

import io.tollgate.Decision;
import io.tollgate.RateLimitHeaders;

import java.util.Map;

/**
 * The rate-limit header fields a filter sends with a decision, allowed or denied: the sets that
 * {@code tollgate.headers.*} turns on, under their usual names. Define a bean of this type for other names.
 *
 * <p>Immutable and thread-safe.
 */
public class TollgateHeaders {

    private final RateLimitHeaders names;

    public TollgateHeaders(RateLimitHeaders names) {
        this.names = names;
    }

    static TollgateHeaders from(TollgateProperties.Headers headers) {
        RateLimitHeaders.Builder names = RateLimitHeaders.builder();
        if (headers.getRetryAfter() == null || headers.getRetryAfter().isBlank()) {
            names.noRetryAfter();
        } else {
            names.retryAfter(headers.getRetryAfter());
        }
        if (!headers.isTightest()) {
            names.noTightest();
        }
        if (headers.isPerMetric()) {
            names.requests().tokens();
        }
        if (headers.isIetf()) {
            names.ietf();
        }
        return new TollgateHeaders(names.build());
    }

    /** The fields for {@code decision}, by name. */
    public Map<String, String> of(Decision decision) {
        return decision.headers(names);
    }
}
