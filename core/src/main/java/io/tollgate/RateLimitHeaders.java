package io.tollgate;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Which rate-limit headers {@link Decision#headers(RateLimitHeaders)} sends, and under which names. Each set is
 * independent; a null component turns its set off. Start from {@link #defaults()} (what {@link Decision#headers()}
 * sends), {@link #all()} or {@link #builder()}.
 *
 * <table>
 *   <caption>Header sets</caption>
 *   <tr><th>set</th><th>default names</th><th>in {@code defaults()}</th><th>values</th></tr>
 *   <tr><td>{@code retryAfter}</td><td>{@code Retry-After}</td><td>yes</td><td>whole seconds until every limit that
 *       denied has reset; only when denied with a known reset</td></tr>
 *   <tr><td>{@code tightest}</td><td>{@code X-RateLimit-Limit}, {@code X-RateLimit-Remaining},
 *       {@code X-RateLimit-Reset}</td><td>yes</td><td>the limit that denied or, when allowed, the request limit with
 *       the least room (any limit without a request limit); reset in whole seconds</td></tr>
 *   <tr><td>{@code requests}</td><td>{@code x-ratelimit-limit-requests}, {@code x-ratelimit-remaining-requests},
 *       {@code x-ratelimit-reset-requests}</td><td>no</td><td>the request limit that denied, else the one with the
 *       least room; reset as a duration such as {@code 45s} or {@code 6m0s}</td></tr>
 *   <tr><td>{@code tokens}</td><td>{@code x-ratelimit-limit-tokens}, {@code x-ratelimit-remaining-tokens},
 *       {@code x-ratelimit-reset-tokens}</td><td>no</td><td>the same for token limits</td></tr>
 *   <tr><td>{@code policy}</td><td>{@code RateLimit-Policy}</td><td>no</td><td>IETF draft
 *       (draft-ietf-httpapi-ratelimit-headers) structured list, one item per set above:
 *       {@code "requests";q=100;w=60, "tokens";q=50000;w=60}, {@code w} (window seconds) left out for a limit that
 *       never resets</td></tr>
 *   <tr><td>{@code rateLimit}</td><td>{@code RateLimit}</td><td>no</td><td>the same draft:
 *       {@code "requests";r=42;t=30, "tokens";r=1200;t=30}, {@code r} remaining, {@code t} seconds to reset, left out
 *       for a limit that never resets</td></tr>
 * </table>
 * Remaining is what a limit has left after this request (a denied request took nothing), 0 for the limit that
 * denied. Limits checked in {@linkplain BudgetResolver#withShadow(java.util.function.Predicate) shadow} are never
 * shown: they are not enforced.
 *
 * <p>Immutable and thread-safe.
 *
 * @param retryAfter name of the retry header; null for none
 * @param tightest   names of the set about the tightest limit of any metric; null for none
 * @param requests   names of the set about request limits; null for none
 * @param tokens     names of the set about token limits; null for none
 * @param policy     name of the IETF policy field; null for none
 * @param rateLimit  name of the IETF field of remaining quota; null for none
 */
public record RateLimitHeaders(String retryAfter, Fields tightest, Fields requests, Fields tokens, String policy,
                               String rateLimit) {

    /** {@code Retry-After}. */
    public static final String RETRY_AFTER = "Retry-After";
    /** {@code X-RateLimit-Limit}, {@code X-RateLimit-Remaining}, {@code X-RateLimit-Reset}. */
    public static final Fields TIGHTEST = new Fields("X-RateLimit-Limit", "X-RateLimit-Remaining",
            "X-RateLimit-Reset");
    /** The names OpenAI's API uses for its request limits. */
    public static final Fields REQUESTS = new Fields("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests");
    /** The names OpenAI's API uses for its token limits. */
    public static final Fields TOKENS = new Fields("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
            "x-ratelimit-reset-tokens");
    /** {@code RateLimit-Policy}. */
    public static final String POLICY = "RateLimit-Policy";
    /** {@code RateLimit}. */
    public static final String RATE_LIMIT = "RateLimit";

    /** RFC 9110 field names: a token. */
    private static final Pattern FIELD_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final RateLimitHeaders DEFAULTS = new RateLimitHeaders(RETRY_AFTER, TIGHTEST, null, null, null,
            null);
    private static final RateLimitHeaders ALL = new RateLimitHeaders(RETRY_AFTER, TIGHTEST, REQUESTS, TOKENS, POLICY,
            RATE_LIMIT);

    public RateLimitHeaders {
        Map<String, String> seen = new HashMap<>();
        name(seen, "retryAfter", retryAfter);
        if (tightest != null) {
            tightest.names(seen, "tightest");
        }
        if (requests != null) {
            requests.names(seen, "requests");
        }
        if (tokens != null) {
            tokens.names(seen, "tokens");
        }
        name(seen, "policy", policy);
        name(seen, "rateLimit", rateLimit);
    }

    /** {@code Retry-After} and the {@code X-RateLimit-*} set of the tightest limit: what {@link Decision#headers()} sends. */
    public static RateLimitHeaders defaults() {
        return DEFAULTS;
    }

    /** Every set under its default name. */
    public static RateLimitHeaders all() {
        return ALL;
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /** A builder starting from these headers. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Checks a name and that no other set uses it: HTTP names are case-insensitive. */
    private static void name(Map<String, String> seen, String field, String name) {
        if (name == null) {
            return;
        }
        if (!FIELD_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("RateLimitHeaders." + field + ": \"" + name + "\" is not an HTTP field "
                    + "name (letters, digits and !#$%&'*+-.^_`|~ only, not empty)");
        }
        String other = seen.putIfAbsent(name.toLowerCase(Locale.ROOT), field);
        if (other != null) {
            throw new IllegalArgumentException("RateLimitHeaders." + field + ": \"" + name + "\" is also the name of "
                    + other);
        }
    }

    /**
     * The three names of one {@code X-RateLimit-*} style set. Immutable and thread-safe.
     *
     * @param limit     the maximum of the limit shown
     * @param remaining what it has left
     * @param reset     time until its window ends (left out for a limit that never resets)
     */
    public record Fields(String limit, String remaining, String reset) {

        public Fields {
            Objects.requireNonNull(limit, "RateLimitHeaders.Fields.limit: must be set");
            Objects.requireNonNull(remaining, "RateLimitHeaders.Fields.remaining: must be set");
            Objects.requireNonNull(reset, "RateLimitHeaders.Fields.reset: must be set");
        }

        private void names(Map<String, String> seen, String set) {
            name(seen, set + ".limit", limit);
            name(seen, set + ".remaining", remaining);
            name(seen, set + ".reset", reset);
        }
    }

    /** Builds {@link RateLimitHeaders}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private String retryAfter;
        private Fields tightest;
        private Fields requests;
        private Fields tokens;
        private String policy;
        private String rateLimit;

        private Builder(RateLimitHeaders from) {
            retryAfter = from.retryAfter;
            tightest = from.tightest;
            requests = from.requests;
            tokens = from.tokens;
            policy = from.policy;
            rateLimit = from.rateLimit;
        }

        /** Sends the retry header under {@code name}. */
        public Builder retryAfter(String name) {
            this.retryAfter = Objects.requireNonNull(name, "RateLimitHeaders.retryAfter: must be set");
            return this;
        }

        /** Sends no retry header. */
        public Builder noRetryAfter() {
            this.retryAfter = null;
            return this;
        }

        /** Sends the set of the tightest limit under these names. */
        public Builder tightest(String limit, String remaining, String reset) {
            this.tightest = new Fields(limit, remaining, reset);
            return this;
        }

        /** Sends no set of the tightest limit. */
        public Builder noTightest() {
            this.tightest = null;
            return this;
        }

        /** Sends the request-limit set under its default names ({@link #REQUESTS}). */
        public Builder requests() {
            this.requests = REQUESTS;
            return this;
        }

        /** Sends the request-limit set under these names. */
        public Builder requests(String limit, String remaining, String reset) {
            this.requests = new Fields(limit, remaining, reset);
            return this;
        }

        /** Sends no request-limit set. */
        public Builder noRequests() {
            this.requests = null;
            return this;
        }

        /** Sends the token-limit set under its default names ({@link #TOKENS}). */
        public Builder tokens() {
            this.tokens = TOKENS;
            return this;
        }

        /** Sends the token-limit set under these names. */
        public Builder tokens(String limit, String remaining, String reset) {
            this.tokens = new Fields(limit, remaining, reset);
            return this;
        }

        /** Sends no token-limit set. */
        public Builder noTokens() {
            this.tokens = null;
            return this;
        }

        /** Sends both IETF fields under their default names, {@code RateLimit-Policy} and {@code RateLimit}. */
        public Builder ietf() {
            return ietf(POLICY, RATE_LIMIT);
        }

        /** Sends both IETF fields under these names. */
        public Builder ietf(String policy, String rateLimit) {
            this.policy = Objects.requireNonNull(policy, "RateLimitHeaders.policy: must be set");
            this.rateLimit = Objects.requireNonNull(rateLimit, "RateLimitHeaders.rateLimit: must be set");
            return this;
        }

        /** Sends neither IETF field. */
        public Builder noIetf() {
            this.policy = null;
            this.rateLimit = null;
            return this;
        }

        public RateLimitHeaders build() {
            return new RateLimitHeaders(retryAfter, tightest, requests, tokens, policy, rateLimit);
        }
    }
}
