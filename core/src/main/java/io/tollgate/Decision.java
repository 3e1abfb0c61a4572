package io.tollgate;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to a check: allowed, or the {@link Outcome} that denied, with the limit that denied, when its window
 * resets, and the HTTP status and headers a gateway would answer with.
 *
 * <p>Limits checked in {@linkplain BudgetResolver#withShadow shadow} never deny: an allowed decision says what they
 * would have decided had they been enforced ({@link #shadowDenied()}, {@link #shadowOutcome()},
 * {@link #shadowDeniedBy()}), and they are left out of the headers.
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
    /** Which of {@link #limits} are checked in shadow; null when none is. Never written after construction. */
    private final boolean[] shadowed;
    private final Outcome shadowOutcome;
    private final LimitUsage shadowDeniedBy;

    Decision(Outcome outcome, List<LimitUsage> limits, LimitUsage deniedBy, Instant resetAt, Instant decidedAt,
             Reservation reservation) {
        this(outcome, limits, deniedBy, resetAt, decidedAt, reservation, false);
    }

    Decision(Outcome outcome, List<LimitUsage> limits, LimitUsage deniedBy, Instant resetAt, Instant decidedAt,
             Reservation reservation, boolean degraded) {
        this(outcome, limits, deniedBy, resetAt, decidedAt, reservation, degraded, null, null, null);
    }

    Decision(Outcome outcome, List<LimitUsage> limits, LimitUsage deniedBy, Instant resetAt, Instant decidedAt,
             Reservation reservation, boolean degraded, boolean[] shadowed, Outcome shadowOutcome,
             LimitUsage shadowDeniedBy) {
        this.shadowed = shadowed;
        this.shadowOutcome = shadowOutcome;
        this.shadowDeniedBy = shadowDeniedBy;
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
     * Whether this request was allowed although a limit checked in shadow had no room for it: enforcing the shadowed
     * limits would have denied it. A decision denied by an enforced limit is never shadow-denied.
     */
    public boolean shadowDenied() {
        return shadowOutcome != null;
    }

    /**
     * What enforcing the shadowed limits would have decided, when that is a denial: a limit outcome decided from the
     * shadowed limits without room as {@link #outcome()} is from enforced ones, or {@link Outcome#STORE_UNAVAILABLE}
     * when every limit of the request is shadowed and the store's failure policy would have denied. Empty otherwise.
     */
    public Optional<Outcome> shadowOutcome() {
        return Optional.ofNullable(shadowOutcome);
    }

    /** The shadowed limit that would have denied, chosen as {@link #deniedBy()} is; empty when none would have. */
    public Optional<LimitUsage> shadowDeniedBy() {
        return Optional.ofNullable(shadowDeniedBy);
    }

    /** The limits of {@link #limits()} that were checked in shadow, with their real maximum; in resolution order. */
    public List<LimitUsage> shadowLimits() {
        if (shadowed == null) {
            return List.of();
        }
        List<LimitUsage> shadowLimits = new ArrayList<>();
        for (int i = 0; i < limits.size(); i++) {
            if (shadowed[i]) {
                shadowLimits.add(limits.get(i));
            }
        }
        return List.copyOf(shadowLimits);
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

    /**
     * What an admitted check took; pass it to the charge. Empty when denied, and when an allowed check took nothing
     * (only a shadowed limit could not count it, or the store could not answer); the charge then resolves the
     * limits itself.
     */
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

    /** Whether the limit at {@code index} may deny: it is not checked in shadow. */
    boolean enforced(int index) {
        return shadowed == null || !shadowed[index];
    }

    @Override
    public String toString() {
        return "Decision[" + outcome + (deniedBy == null ? "" : ", deniedBy=" + deniedBy)
                + (shadowOutcome == null ? "" : ", shadow=" + shadowOutcome)
                + (shadowDeniedBy == null ? "" : ", shadowDeniedBy=" + shadowDeniedBy)
                + (degraded ? ", degraded" : "") + "]";
    }
}
