package io.tollgate;

/**
 * A token maximum with its window and a request maximum with its window, independent of each other; either may be
 * absent ({@code null} window and zero maximum).
 *
 * <p>Immutable and thread-safe.
 */
public record RateLimit(long tokenMax, WindowSpec tokenWindow, long requestMax, WindowSpec requestWindow) {

    public RateLimit {
        checkPair("RateLimit.tokenMax", tokenMax, tokenWindow);
        checkPair("RateLimit.requestMax", requestMax, requestWindow);
        if (tokenWindow == null && requestWindow == null) {
            throw new IllegalArgumentException("RateLimit: needs a token limit, a request limit or both");
        }
    }

    private static void checkPair(String field, long max, WindowSpec window) {
        if (window == null && max != 0) {
            throw new IllegalArgumentException(field + ": " + max + " has no reset period");
        }
        if (window != null && max <= 0) {
            throw new IllegalArgumentException(field + ": " + max + " must be positive");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean hasTokenLimit() {
        return tokenWindow != null;
    }

    public boolean hasRequestLimit() {
        return requestWindow != null;
    }

    /** Builds a {@link RateLimit}; not thread-safe. */
    public static final class Builder {
        private long tokenMax;
        private WindowSpec tokenWindow;
        private long requestMax;
        private WindowSpec requestWindow;

        private Builder() {
        }

        /** At most {@code max} tokens per rolling {@code resetPeriod}, e.g. {@code tokens(100_000, "1m")}. */
        public Builder tokens(long max, String resetPeriod) {
            return tokens(max, WindowSpec.rolling(ResetPeriod.parse(resetPeriod)));
        }

        public Builder tokens(long max, WindowSpec window) {
            this.tokenMax = max;
            this.tokenWindow = window;
            return this;
        }

        /** At most {@code max} requests per rolling {@code resetPeriod}, e.g. {@code requests(60, "1m")}. */
        public Builder requests(long max, String resetPeriod) {
            return requests(max, WindowSpec.rolling(ResetPeriod.parse(resetPeriod)));
        }

        public Builder requests(long max, WindowSpec window) {
            this.requestMax = max;
            this.requestWindow = window;
            return this;
        }

        public RateLimit build() {
            return new RateLimit(tokenMax, tokenWindow, requestMax, requestWindow);
        }
    }
}
