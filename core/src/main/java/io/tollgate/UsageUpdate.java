package io.tollgate;

import io.tollgate.internal.Checks;

import java.util.Objects;

/**
 * What one upstream call (or one streamed chunk of it) consumed, to charge after the call.
 *
 * <ul>
 *   <li>Its {@link CallPart} says whether tokens and cost are charged (a call that does not stream, or a streamed chunk
 *       that carries usage) and whether it ends the request (a call that does not stream, or the last chunk).</li>
 *   <li>The request is counted once: at check time when a check was made (pass its {@link Reservation}), else by the
 *       update that ends it.</li>
 *   <li>With a reservation, the charge goes to exactly the limits that were checked: virtual key, user, provider and
 *       model are then not needed.</li>
 *   <li>A failed call is charged for what it consumed.</li>
 *   <li>The same {@code requestId} and {@code chunk} is charged at most once, from any replica.</li>
 *   <li>Without provider or model, provider and model levels are skipped.</li>
 * </ul>
 *
 * <p>Immutable and thread-safe. {@link #toString()} never shows the secret.
 */
public record UsageUpdate(String virtualKey, String userId, String provider, String model, boolean success,
                          long tokens, Money cost, String requestId, int chunk, CallPart part,
                          Reservation reservation) {

    public UsageUpdate {
        Checks.optionalSecret("UsageUpdate.virtualKey", virtualKey);
        Checks.optional("UsageUpdate.userId", userId);
        Checks.optional("UsageUpdate.provider", provider);
        Checks.optional("UsageUpdate.model", model);
        Checks.notNegative("UsageUpdate.tokens", tokens);
        Objects.requireNonNull(cost, "UsageUpdate.cost");
        if (cost.signum() < 0) {
            throw new IllegalArgumentException("UsageUpdate.cost: " + cost + " must not be negative");
        }
        Checks.notBlank("UsageUpdate.requestId", requestId);
        Checks.notNegative("UsageUpdate.chunk", chunk);
        Objects.requireNonNull(part, "UsageUpdate.part");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether tokens and cost of this update are charged. */
    public boolean chargesUsage() {
        return part.chargesUsage();
    }

    /** Whether this update ends the request: it settles a reservation, or counts the request when none was made. */
    public boolean endsRequest() {
        return part.endsRequest();
    }

    /** The key that makes this update count once across every replica. */
    public String idempotencyKey() {
        return requestId + "#" + chunk;
    }

    @Override
    public String toString() {
        return "UsageUpdate[virtualKey=" + (virtualKey == null ? "none" : "***") + ", userId=" + userId + ", provider="
                + provider + ", model=" + model + ", success=" + success + ", tokens=" + tokens + ", cost=" + cost
                + ", requestId=" + requestId + ", chunk=" + chunk + ", part=" + part + ", checked="
                + (reservation != null) + "]";
    }

    /** Builds a {@link UsageUpdate}; not thread-safe. */
    public static final class Builder {
        private String virtualKey;
        private String userId;
        private String provider;
        private String model;
        private boolean success = true;
        private long tokens;
        private Money cost = Money.ZERO;
        private String requestId;
        private int chunk;
        private CallPart part = CallPart.WHOLE_CALL;
        private Reservation reservation;

        private Builder() {
        }

        /** The secret the caller presented. */
        public Builder virtualKey(String secret) {
            this.virtualKey = secret;
            return this;
        }

        public Builder user(String userId) {
            this.userId = userId;
            return this;
        }

        public Builder provider(String provider) {
            this.provider = provider;
            return this;
        }

        public Builder model(String model) {
            this.model = model;
            return this;
        }

        public Builder success(boolean success) {
            this.success = success;
            return this;
        }

        public Builder tokens(long tokens) {
            this.tokens = tokens;
            return this;
        }

        public Builder cost(Money cost) {
            this.cost = cost;
            return this;
        }

        public Builder requestId(String requestId) {
            this.requestId = requestId;
            return this;
        }

        /** The chunk's sequence number within a streamed request; 0 for a call that does not stream. */
        public Builder chunk(int chunk) {
            this.chunk = chunk;
            return this;
        }

        /**
         * Which part of the call this update charges; {@link CallPart#WHOLE_CALL} unless set. For a streamed answer,
         * {@link UsageTracker#openStream} numbers the chunks and picks their parts itself.
         */
        public Builder part(CallPart part) {
            this.part = part;
            return this;
        }

        /** What the check took, from {@link Decision#reservation()}. */
        public Builder reservation(Reservation reservation) {
            this.reservation = reservation;
            return this;
        }

        public UsageUpdate build() {
            return new UsageUpdate(virtualKey, userId, provider, model, success, tokens, cost, requestId, chunk, part,
                    reservation);
        }
    }
}
