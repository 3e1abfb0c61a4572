package io.tollgate;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
     * The headers a gateway would send: {@code Retry-After} when denied with a known reset, and
     * {@code X-RateLimit-Limit}, {@code X-RateLimit-Remaining} and {@code X-RateLimit-Reset} (seconds until reset) for
     * the limit that denied or, when allowed, the request limit with the least room (any limit if there is no request
     * limit). A limit that never resets has no {@code X-RateLimit-Reset}.
     */
    public Map<String, String> headers() {
        Map<String, String> headers = new LinkedHashMap<>();
        retryAfter().ifPresent(retry -> headers.put("Retry-After", Long.toString(retry.toSeconds())));
        LimitUsage shown = deniedBy != null ? deniedBy : tightest();
        if (shown != null) {
            headers.put("X-RateLimit-Limit", Long.toString(shown.limit().max()));
            long remaining = deniedBy != null ? 0 : shown.remaining() - takenBy(shown);
            headers.put("X-RateLimit-Remaining", Long.toString(Math.max(0, remaining)));
            if (!shown.window().isUnbounded()) {
                long millis = Math.max(0, shown.window().endMillis() - decidedAt.toEpochMilli());
                headers.put("X-RateLimit-Reset", Long.toString((millis + 999) / 1000));
            }
        }
        return headers;
    }

    private long takenBy(LimitUsage usage) {
        if (reservation == null) {
            return 0;
        }
        int index = limits.indexOf(usage);
        return index < 0 ? 0 : reservation.taken(index);
    }

    private LimitUsage tightest() {
        LimitUsage best = null;
        for (LimitUsage usage : limits) {
            boolean requests = usage.limit().metric() == Metric.REQUESTS;
            boolean bestRequests = best != null && best.limit().metric() == Metric.REQUESTS;
            if (best == null || (requests && !bestRequests)
                    || (requests == bestRequests && usage.remaining() < best.remaining())) {
                best = usage;
            }
        }
        return best;
    }

    @Override
    public String toString() {
        return "Decision[" + outcome + (deniedBy == null ? "" : ", deniedBy=" + deniedBy)
                + (degraded ? ", degraded" : "") + "]";
    }
}
