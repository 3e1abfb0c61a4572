package io.tollgate;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to a check: allowed, or the {@link Outcome} that denied, with the limit that denied, when its window
 * resets, and the HTTP status and headers a gateway would answer with.
 *
 * <p>Immutable and thread-safe.
 */
public final class Decision {

    private final Outcome outcome;
    private final List<LimitUsage> limits;
    private final LimitUsage deniedBy;
    private final Instant resetAt;
    private final Instant decidedAt;
    private final Reservation reservation;
    private final boolean degraded;

    Decision(Outcome outcome, List<LimitUsage> limits, LimitUsage deniedBy, Instant resetAt, Instant decidedAt,
             Reservation reservation) {
        this(outcome, limits, deniedBy, resetAt, decidedAt, reservation, false);
    }

    Decision(Outcome outcome, List<LimitUsage> limits, LimitUsage deniedBy, Instant resetAt, Instant decidedAt,
             Reservation reservation, boolean degraded) {
        this.outcome = outcome;
        this.limits = limits;
        this.deniedBy = deniedBy;
        this.resetAt = resetAt;
        this.decidedAt = decidedAt;
        this.reservation = reservation;
        this.degraded = degraded;
    }

    static Decision refused(Outcome outcome, Instant decidedAt) {
        return new Decision(outcome, List.of(), null, null, decidedAt, null);
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOWED;
    }

    public Outcome outcome() {
        return outcome;
    }

    /** Every limit of the request with its usage before this check, in resolution order. */
    public List<LimitUsage> limits() {
        return limits;
    }

    /** The limit that denied: of the limits without room, the first in resolution order of the outcome's metric. */
    public Optional<LimitUsage> deniedBy() {
        return Optional.ofNullable(deniedBy);
    }

    /**
     * When every limit that denied has reset, so a retry can pass; empty when allowed, when a refusal is not about
     * limits, or when a denying budget never resets. For {@link Outcome#STORE_UNAVAILABLE}, when the store is worth
     * asking again (a short time, chosen by its failure policy).
     */
    public Optional<Instant> resetAt() {
        return Optional.ofNullable(resetAt);
    }

    /** {@link #resetAt()} less the time of the decision on the store's clock, rounded up to whole seconds. */
    public Optional<Duration> retryAfter() {
        if (resetAt == null) {
            return Optional.empty();
        }
        long millis = Math.max(0, resetAt.toEpochMilli() - decidedAt.toEpochMilli());
        return Optional.of(Duration.ofSeconds((millis + 999) / 1000));
    }

    /**
     * Whether the shared store could not answer and a failure policy decided instead: fail open (admitted, counters
     * read as zero), a local share of each limit, or fail closed ({@link Outcome#STORE_UNAVAILABLE}). A gateway may
     * log it; the limits of a degraded decision are this replica's view, on its own clock.
     */
    public boolean degraded() {
        return degraded;
    }

    /** What an admitted check took; pass it to the charge. Empty when denied. */
    public Optional<Reservation> reservation() {
        return Optional.ofNullable(reservation);
    }

    /** 200 when allowed; 401, 403, 429, 402 or 503 as {@link Outcome#httpStatus()} says. */
    public int httpStatus() {
        return outcome.httpStatus();
    }

    /**
     * The headers a gateway would send, under {@link RateLimitHeaders#defaults()}: {@code Retry-After} when denied
     * with a known reset, and {@code X-RateLimit-Limit}, {@code X-RateLimit-Remaining} and {@code X-RateLimit-Reset}
     * (seconds until reset) for the limit that denied or, when allowed, the request limit with the least room (any
     * limit if there is no request limit). A limit that never resets has no {@code X-RateLimit-Reset}.
     */
    public Map<String, String> headers() {
        return headers(RateLimitHeaders.defaults());
    }

    /**
     * The headers a gateway would send, in the sets and under the names of {@code names} (see
     * {@link RateLimitHeaders}), in the order of its components. A refusal before the limits has none but
     * {@code Retry-After} where it has a retry time.
     */
    public Map<String, String> headers(RateLimitHeaders names) {
        return DecisionHeaders.of(this, Objects.requireNonNull(names, "names"));
    }

    long decidedAtMillis() {
        return decidedAt.toEpochMilli();
    }

    /** The index of the limit that denied in {@link #limits()}; -1 when none did. */
    int deniedByIndex() {
        return deniedBy == null ? -1 : limits.indexOf(deniedBy);
    }

    /** What this check took from the limit at {@code index}. */
    long taken(int index) {
        return reservation == null ? 0 : reservation.taken(index);
    }

    /** Whether the limit at {@code index} may deny. */
    boolean enforced(int index) {
        return true;
    }

    @Override
    public String toString() {
        return "Decision[" + outcome + (deniedBy == null ? "" : ", deniedBy=" + deniedBy)
                + (degraded ? ", degraded" : "") + "]";
    }
}
