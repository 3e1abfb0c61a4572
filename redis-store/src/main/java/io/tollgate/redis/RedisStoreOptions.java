package io.tollgate.redis;

import io.tollgate.spi.SnapshotSource;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Options of a {@link RedisGovernanceStore}. Start from {@link #defaults()} or {@link #builder()}.
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>what it does</th></tr>
 *   <tr><td>{@code keyPrefix}</td><td>{@code tollgate}</td><td>first segment of every key the store writes</td></tr>
 *   <tr><td>{@code commandTimeout}</td><td>500 ms</td><td>bound on every call, restore included</td></tr>
 *   <tr><td>{@code idempotencyKeyLifetime}</td><td>1 h</td><td>how long a charge's idempotency key is remembered</td></tr>
 *   <tr><td>{@code expiredWindowRetention}</td><td>2 min</td><td>how long a counter outlives its window</td></tr>
 *   <tr><td>{@code changeLogRetention}</td><td>1 h</td><td>how long the change log remembers a change</td></tr>
 *   <tr><td>{@code snapshotSource}</td><td>none</td><td>where counters are restored from after data loss</td></tr>
 *   <tr><td>{@code candidateClock}</td><td>system UTC</td><td>only picks candidate calendar windows</td></tr>
 *   <tr><td>{@code testTimeSource}</td><td>none</td><td>for tests only: replaces Redis {@code TIME}</td></tr>
 *   <tr><td>{@code placement}</td><td>{@link RedisPlacement#perHolder()}</td><td>Redis Cluster only: which
 *       holders share a hash slot</td></tr>
 * </table>
 *
 * <p>Immutable and thread-safe.
 *
 * @param keyPrefix              first segment of every key, characters {@code [A-Za-z0-9._:-]}
 * @param commandTimeout         every store call completes (normally or with a {@link io.tollgate.StoreException})
 *                               within this time, whatever Redis does
 * @param idempotencyKeyLifetime how long a charge's idempotency key is kept: a retry of the same charge within it is
 *                               a duplicate. Each key costs about 100 bytes of Redis memory for this long, so at
 *                               10,000 charges a second one hour holds some 36 million keys (3-4 GB): keep it as
 *                               short as the longest retry a gateway makes
 * @param expiredWindowRetention grace after a window ends before its counter key expires, so that a snapshot flusher
 *                               running every few seconds still sees the final value
 * @param changeLogRetention     how long a change stays in the change log that {@code changesSince} reads; a flusher
 *                               must call more often than this
 * @param snapshotSource         where counters of current windows are restored from when Redis lost its data; null
 *                               for none (counters then start again from zero)
 * @param candidateClock         used only to pick the candidate windows sent for calendar and month-based layouts,
 *                               and the window whose key is sent in advance; Redis {@code TIME} still decides which
 *                               window is current, so a wrong clock costs speed (or, off by more than two windows of
 *                               a calendar layout, an error), never a wrong count
 * @param testTimeSource         <b>for tests only</b>: when set, scripts use this clock's milliseconds instead of Redis
 *                               {@code TIME}, so a test can drive calendar cases; null in production
 * @param placement              Redis Cluster only: which holders' counters share a hash slot, so that one script
 *                               checks them atomically (see {@link RedisPlacement}); every replica must use the same.
 *                               Ignored on standalone Redis
 */
public record RedisStoreOptions(
        String keyPrefix,
        Duration commandTimeout,
        Duration idempotencyKeyLifetime,
        Duration expiredWindowRetention,
        Duration changeLogRetention,
        SnapshotSource snapshotSource,
        Clock candidateClock,
        Clock testTimeSource,
        RedisPlacement placement) {

    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._:-]+");
    private static final RedisStoreOptions DEFAULTS = builder().build();

    public RedisStoreOptions {
        Objects.requireNonNull(keyPrefix, "RedisStoreOptions.keyPrefix: must be set");
        if (!PREFIX.matcher(keyPrefix).matches()) {
            throw new IllegalArgumentException("RedisStoreOptions.keyPrefix: \"" + keyPrefix
                    + "\" must be non-empty and use only the characters A-Z a-z 0-9 . _ : -");
        }
        positive("commandTimeout", commandTimeout);
        positive("idempotencyKeyLifetime", idempotencyKeyLifetime);
        notNegative("expiredWindowRetention", expiredWindowRetention);
        positive("changeLogRetention", changeLogRetention);
        Objects.requireNonNull(candidateClock, "RedisStoreOptions.candidateClock: must be set");
        Objects.requireNonNull(placement, "RedisStoreOptions.placement: must be set");
        if (commandTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("RedisStoreOptions.commandTimeout: " + commandTimeout
                    + " must be at least 1 ms");
        }
        if (idempotencyKeyLifetime.toMillis() < 1) {
            throw new IllegalArgumentException("RedisStoreOptions.idempotencyKeyLifetime: " + idempotencyKeyLifetime
                    + " must be at least 1 ms");
        }
    }

    /** Every option at its default. */
    public static RedisStoreOptions defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    private static void positive(String field, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("RedisStoreOptions." + field + ": " + value + " must be positive");
        }
    }

    private static void notNegative(String field, Duration value) {
        if (value == null || value.isNegative()) {
            throw new IllegalArgumentException("RedisStoreOptions." + field + ": " + value
                    + " must be zero or positive");
        }
    }

    /** Builds {@link RedisStoreOptions}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private String keyPrefix = "tollgate";
        private Duration commandTimeout = Duration.ofMillis(500);
        private Duration idempotencyKeyLifetime = Duration.ofHours(1);
        private Duration expiredWindowRetention = Duration.ofMinutes(2);
        private Duration changeLogRetention = Duration.ofHours(1);
        private SnapshotSource snapshotSource;
        private Clock candidateClock = Clock.systemUTC();
        private Clock testTimeSource;
        private RedisPlacement placement = RedisPlacement.perHolder();

        private Builder() {
        }

        private Builder(RedisStoreOptions options) {
            keyPrefix = options.keyPrefix;
            commandTimeout = options.commandTimeout;
            idempotencyKeyLifetime = options.idempotencyKeyLifetime;
            expiredWindowRetention = options.expiredWindowRetention;
            changeLogRetention = options.changeLogRetention;
            snapshotSource = options.snapshotSource;
            candidateClock = options.candidateClock;
            testTimeSource = options.testTimeSource;
            placement = options.placement;
        }

        /** First segment of every key; {@code tollgate} by default. */
        public Builder keyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
            return this;
        }

        /** Bound on every store call; 500 ms by default. */
        public Builder commandTimeout(Duration commandTimeout) {
            this.commandTimeout = commandTimeout;
            return this;
        }

        /** How long a charge's idempotency key is remembered; 1 hour by default (each key costs memory). */
        public Builder idempotencyKeyLifetime(Duration idempotencyKeyLifetime) {
            this.idempotencyKeyLifetime = idempotencyKeyLifetime;
            return this;
        }

        /** Grace after a window ends before its counter key expires; 2 minutes by default. */
        public Builder expiredWindowRetention(Duration expiredWindowRetention) {
            this.expiredWindowRetention = expiredWindowRetention;
            return this;
        }

        /** How long the change log keeps a change; 1 hour by default. */
        public Builder changeLogRetention(Duration changeLogRetention) {
            this.changeLogRetention = changeLogRetention;
            return this;
        }

        /** Where counters are restored from after Redis lost its data; none by default. */
        public Builder snapshotSource(SnapshotSource snapshotSource) {
            this.snapshotSource = snapshotSource;
            return this;
        }

        /** The clock that picks candidate windows (Redis time picks the current one); system UTC by default. */
        public Builder candidateClock(Clock candidateClock) {
            this.candidateClock = candidateClock;
            return this;
        }

        /**
         * <b>For tests only.</b> Scripts use this clock's milliseconds instead of Redis {@code TIME}, and it also
         * picks the candidate windows. Never set it in production: replicas would each use their own clock.
         */
        public Builder testTimeSource(Clock testTimeSource) {
            this.testTimeSource = testTimeSource;
            return this;
        }

        /**
         * Redis Cluster only: which holders' counters share a hash slot; {@link RedisPlacement#perHolder()} by
         * default. {@link RedisPlacement#byTenant} puts a tenant's levels in one slot (fewer script calls per
         * request) at the price of reading the configuration to name keys.
         */
        public Builder placement(RedisPlacement placement) {
            this.placement = placement;
            return this;
        }

        public RedisStoreOptions build() {
            return new RedisStoreOptions(keyPrefix, commandTimeout, idempotencyKeyLifetime, expiredWindowRetention,
                    changeLogRetention, snapshotSource, candidateClock, testTimeSource, placement);
        }
    }
}
