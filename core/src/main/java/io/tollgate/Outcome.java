package io.tollgate;

/**
 * The outcome of a check. The first failure in this order wins; the limit outcomes are decided together from every
 * limit that has no room. {@link #STORE_UNAVAILABLE} comes last: it is not a judgement of the request but of the
 * store, which could not answer and whose failure policy denies.
 */
public enum Outcome {
    ALLOWED(200),
    /** The secret matches no virtual key. */
    VIRTUAL_KEY_NOT_FOUND(401),
    /** The virtual key is inactive or expired. */
    VIRTUAL_KEY_BLOCKED(403),
    /** The virtual key may not use this provider. */
    PROVIDER_BLOCKED(403),
    /** The virtual key may not use this model with this provider. */
    MODEL_BLOCKED(403),
    /** A request limit has no room. */
    REQUEST_LIMITED(429),
    /** A token limit has no room. */
    TOKEN_LIMITED(429),
    /** Both a request limit and a token limit have no room. */
    RATE_LIMITED(429),
    /** An in-flight limit has no room: as many requests as it allows are running now. */
    IN_FLIGHT_LIMITED(429),
    /** A budget is spent. */
    BUDGET_EXCEEDED(402),
    /**
     * The store could not answer and its failure policy denies (fail closed): retry shortly, see
     * {@link Decision#retryAfter()}.
     */
    STORE_UNAVAILABLE(503);

    private final int httpStatus;

    Outcome(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    /** The HTTP status a gateway would answer with. */
    public int httpStatus() {
        return httpStatus;
    }
}
