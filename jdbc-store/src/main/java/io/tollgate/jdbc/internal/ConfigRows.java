package io.tollgate.jdbc.internal;

import java.math.BigDecimal;

/**
 * One record per configuration table row, as Jdbi maps and binds them. Columns are the snake_case of the
 * components. The records are immutable and thread-safe.
 */
public final class ConfigRows {

    private ConfigRows() {
    }

    public record CustomerRow(String id, String name) {
    }

    public record TeamRow(String id, String name, String customerId) {
    }

    /** {@code expiresAt} is epoch seconds with nine decimals, or null. */
    public record VirtualKeyRow(String id, String name, String secretHash, String teamId, String customerId,
                                boolean active, BigDecimal expiresAt) {
    }

    public record ProviderConfigRow(String virtualKeyId, String provider, int position) {
    }

    /** {@code rule} is {@link #ALLOWED} or {@link #BLOCKED}. */
    public record ProviderModelRow(String virtualKeyId, String provider, String rule, String model) {
        public static final String ALLOWED = "ALLOWED";
        public static final String BLOCKED = "BLOCKED";
    }

    public record UserRow(String id) {
    }

    public record ModelConfigRow(String id, String model, String provider, String scope, String scopeId) {
    }

    /** {@code provider} is empty unless {@code holderKind} is {@code PROVIDER_CONFIG}. */
    public record BudgetRow(String holderKind, String holderId, String provider, int position, long maxNanos,
                            String windowId, boolean leased) {
    }

    /**
     * A window id of null (with a maximum of 0) means no limit of that kind; an in-flight maximum of 0, none;
     * {@code leased} marks the token and request limits for leased admission.
     */
    public record RateLimitRow(String holderKind, String holderId, String provider, long tokenMax, String tokenWindowId,
                               long requestMax, String requestWindowId, long inFlightMax, boolean leased) {
    }
}
