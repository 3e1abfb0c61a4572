package io.tollgate;

/**
 * A token maximum with its window, a request maximum with its window, and a maximum of requests in flight at once
 * ({@link Metric#IN_FLIGHT}), independent of each other; any may be absent (a {@code null} window and a zero
 * maximum; a zero in-flight maximum), not all. {@code leased} marks the token and request limits for leased admission
 * (see {@link Limit#leased()}).
 *
 * <p>Immutable and thread-safe.
 */
public record RateLimit(long tokenMax, WindowSpec tokenWindow, long requestMax, WindowSpec requestWindow,
                        long inFlightMax, boolean leased) {

    public RateLimit {
        checkPair("RateLimit.tokenMax", tokenMax, tokenWindow);
        checkPair("RateLimit.requestMax", requestMax, requestWindow);
        if (inFlightMax < 0) {
            throw new IllegalArgumentException("RateLimit.inFlightMax: " + inFlightMax + " must not be negative");
        }
        if (tokenWindow == null && requestWindow == null && inFlightMax == 0) {
            throw new IllegalArgumentException("RateLimit: needs a token limit, a request limit, an in-flight limit "
                    + "or several");
        }
    }

    /** Not marked for leased admission. */
    public RateLimit(long tokenMax, WindowSpec tokenWindow, long requestMax, WindowSpec requestWindow,
                     long inFlightMax) {
        this(tokenMax, tokenWindow, requestMax, requestWindow, inFlightMax, false);
    }

    /** Without an in-flight limit, not marked for leased admission. */
    public RateLimit(long tokenMax, WindowSpec tokenWindow, long requestMax, WindowSpec requestWindow) {
        this(tokenMax, tokenWindow, requestMax, requestWindow, 0);
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

    public boolean hasInFlightLimit() {
        return inFlightMax > 0;
    }

    /** Builds a {@link RateLimit}; not thread-safe. */
    public static final class Builder {
        private long tokenMax;
        private WindowSpec tokenWindow;
        private long requestMax;
        private WindowSpec requestWindow;
        private long inFlightMax;
        private boolean leased;

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

        /**
         * At most {@code max} requests in flight at once across every replica, e.g. {@code inFlight(20)} for a
         * provider that allows 20 concurrent streams.
         */
        public Builder inFlight(long max) {
            this.inFlightMax = max;
            return this;
        }

        /**
         * Marks the token and request limits for leased admission on a store that offers it: a replica may admit
         * from slices of their windows it holds, without a call. Never the in-flight limit.
         */
        public Builder leased(boolean leased) {
            this.leased = leased;
            return this;
        }

        public RateLimit build() {
            return new RateLimit(tokenMax, tokenWindow, requestMax, requestWindow, inFlightMax, leased);
        }
    }
}
