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
 *   <tr><td>{@code leaseDuration}</td><td>5 min</td><td>how long a reservation's holds last unless settled or
 *       extended</td></tr>
 *   <tr><td>{@code sweepInterval}</td><td>1 min</td><td>how often one replica reads every counter for the
 *       snapshots, so that usage of a replica that died before its flush is not lost</td></tr>
 *   <tr><td>{@code cacheDenials}</td><td>true</td><td>whether a replica remembers spent counters and denies without
 *       a call</td></tr>
 *   <tr><td>{@code denialRecheck}</td><td>1 s</td><td>how long a remembered denial of a counter that can go down
 *       stands before Redis is asked again</td></tr>
 *   <tr><td>{@code snapshotSource}</td><td>none</td><td>where counters are restored from after data loss</td></tr>
 *   <tr><td>{@code clock}</td><td>system UTC</td><td>only guesses Redis time between replies</td></tr>
 *   <tr><td>{@code testTimeSource}</td><td>none</td><td>for tests only: replaces Redis {@code TIME}</td></tr>
 *   <tr><td>{@code placement}</td><td>{@link RedisPlacement#perHolder()}</td><td>Redis Cluster only: which
 *       holders share a hash slot</td></tr>
 *   <tr><td>{@code chargeBatchWindow}</td><td>0 (off)</td><td>how long a charge may wait for others of its hash tag,
 *       to go to Redis in one call</td></tr>
 *   <tr><td>{@code chargeBatchSize}</td><td>32</td><td>the most charges of one call; a full batch goes at
 *       once</td></tr>
 *   <tr><td>{@code leasedAdmission}</td><td>{@link LeasedAdmission#markedLimitsOnly()}</td><td>which limits a
 *       replica admits from slices it holds, without a call, and how large the slices are</td></tr>
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
 *                               (and the sweep) still see the final value; at least {@code sweepInterval}
 * @param leaseDuration          how long what a reservation holds (token and cost estimates, in-flight slots) stays
 *                               held when its request neither settles nor extends it: then any replica gives it back
 * @param sweepInterval          how often, at most, one replica of the fleet reads every counter in Redis for its
 *                               flusher, so that what a replica that died before its own flush had counted still
 *                               reaches the snapshots; {@link Duration#ZERO} for never
 * @param cacheDenials           whether a replica remembers the counters that left no room for a request, for
 *                               their window, and denies what does not fit them without a call (see
 *                               {@link RedisGovernanceStore}); it may only deny, never admit
 * @param denialRecheck          how long a remembered denial of a counter that can go down (tokens, cost, in-flight,
 *                               every counter on Redis Cluster) stands before the replica asks Redis again
 * @param snapshotSource         where counters of current windows are restored from when Redis lost its data; null
 *                               for none (counters then start again from zero)
 * @param clock                  this replica's clock, used only to guess Redis time between replies (the scripts
 *                               check the guess), so a wrong clock costs speed, never a wrong count
 * @param testTimeSource         <b>for tests only</b>: when set, scripts use this clock's milliseconds instead of Redis
 *                               {@code TIME}, so a test can drive calendar cases; null in production
 * @param placement              Redis Cluster only: which holders' counters share a hash slot, so that one script
 *                               checks them atomically (see {@link RedisPlacement}); every replica must use the same.
 *                               Ignored on standalone Redis
 * @param chargeBatchWindow      how long, at most, a charge waits for other charges of its hash tag (its slot group)
 *                               so that they go to Redis in one script call, each with its own idempotency key and
 *                               reply, none acknowledged before Redis applied it; {@link Duration#ZERO} (the default)
 *                               sends every charge at once. At most 100 ms
 * @param chargeBatchSize        the most charges of one such call (2 to 1,000); a batch that fills goes at once
 * @param leasedAdmission        which limits are admitted from slices this replica holds (see {@link LeasedAdmission});
 *                               by default only those marked {@code leased} in the configuration
 */
public record RedisStoreOptions(
        String keyPrefix,
        Duration commandTimeout,
        Duration idempotencyKeyLifetime,
        Duration expiredWindowRetention,
        Duration leaseDuration,
        Duration sweepInterval,
        boolean cacheDenials,
        Duration denialRecheck,
        SnapshotSource snapshotSource,
        Clock clock,
        Clock testTimeSource,
        RedisPlacement placement,
        Duration chargeBatchWindow,
        int chargeBatchSize,
        LeasedAdmission leasedAdmission) {

    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._:-]+");
    private static final Duration MAX_BATCH_WINDOW = Duration.ofMillis(100);
    private static final int MAX_BATCH_SIZE = 1_000;
    private static final RedisStoreOptions DEFAULTS = builder().build();

    public RedisStoreOptions {
        Objects.requireNonNull(keyPrefix, "RedisStoreOptions.keyPrefix: must be set");
        if (!PREFIX.matcher(keyPrefix).matches()) {
            throw new IllegalArgumentException("RedisStoreOptions.keyPrefix: \"" + keyPrefix
                    + "\" must be non-empty and use only the characters A-Z a-z 0-9 . _ : -");
        }
        atLeastOneMilli("commandTimeout", commandTimeout);
        atLeastOneMilli("idempotencyKeyLifetime", idempotencyKeyLifetime);
        notNegative("expiredWindowRetention", expiredWindowRetention);
        atLeastOneMilli("leaseDuration", leaseDuration);
        notNegative("sweepInterval", sweepInterval);
        if (expiredWindowRetention.compareTo(sweepInterval) < 0) {
            throw new IllegalArgumentException("RedisStoreOptions.expiredWindowRetention: " + expiredWindowRetention
                    + " must be at least the sweepInterval " + sweepInterval
                    + ", so that the sweep sees a window's final value before its counter expires");
        }
        notNegative("denialRecheck", denialRecheck);
        Objects.requireNonNull(clock, "RedisStoreOptions.clock: must be set");
        Objects.requireNonNull(placement, "RedisStoreOptions.placement: must be set");
        notNegative("chargeBatchWindow", chargeBatchWindow);
        if (chargeBatchWindow.compareTo(MAX_BATCH_WINDOW) > 0) {
            throw new IllegalArgumentException("RedisStoreOptions.chargeBatchWindow: " + chargeBatchWindow
                    + " must be at most " + MAX_BATCH_WINDOW + ": a charge waits that long before it is sent");
        }
        if (chargeBatchSize < 2 || chargeBatchSize > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("RedisStoreOptions.chargeBatchSize: " + chargeBatchSize
                    + " must be between 2 and " + MAX_BATCH_SIZE);
        }
        Objects.requireNonNull(leasedAdmission, "RedisStoreOptions.leasedAdmission: must be set");
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

    private static void atLeastOneMilli(String field, Duration value) {
        if (value == null || value.toMillis() < 1) {
            throw new IllegalArgumentException("RedisStoreOptions." + field + ": " + value
                    + " must be at least 1 ms");
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
        private Duration leaseDuration = Duration.ofMinutes(5);
        private Duration sweepInterval = Duration.ofMinutes(1);
        private boolean cacheDenials = true;
        private Duration denialRecheck = Duration.ofSeconds(1);
        private SnapshotSource snapshotSource;
        private Clock clock = Clock.systemUTC();
        private Clock testTimeSource;
        private RedisPlacement placement = RedisPlacement.perHolder();
        private Duration chargeBatchWindow = Duration.ZERO;
        private int chargeBatchSize = 32;
        private LeasedAdmission leasedAdmission = LeasedAdmission.markedLimitsOnly();

        private Builder() {
        }

        private Builder(RedisStoreOptions options) {
            keyPrefix = options.keyPrefix;
            commandTimeout = options.commandTimeout;
            idempotencyKeyLifetime = options.idempotencyKeyLifetime;
            expiredWindowRetention = options.expiredWindowRetention;
            leaseDuration = options.leaseDuration;
            sweepInterval = options.sweepInterval;
            cacheDenials = options.cacheDenials;
            denialRecheck = options.denialRecheck;
            snapshotSource = options.snapshotSource;
            clock = options.clock;
            testTimeSource = options.testTimeSource;
            placement = options.placement;
            chargeBatchWindow = options.chargeBatchWindow;
            chargeBatchSize = options.chargeBatchSize;
            leasedAdmission = options.leasedAdmission;
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

        /** How long a reservation's holds last unless settled or extended; 5 minutes by default. */
        public Builder leaseDuration(Duration leaseDuration) {
            this.leaseDuration = leaseDuration;
            return this;
        }

        /** How often one replica reads every counter for the snapshots; 1 minute by default, zero for never. */
        public Builder sweepInterval(Duration sweepInterval) {
            this.sweepInterval = sweepInterval;
            return this;
        }

        /** Whether a replica remembers spent counters and denies without a call; true by default. */
        public Builder cacheDenials(boolean cacheDenials) {
            this.cacheDenials = cacheDenials;
            return this;
        }

        /** How long a remembered denial of a counter that can go down stands; 1 second by default. */
        public Builder denialRecheck(Duration denialRecheck) {
            this.denialRecheck = denialRecheck;
            return this;
        }

        /** Where counters are restored from after Redis lost its data; none by default. */
        public Builder snapshotSource(SnapshotSource snapshotSource) {
            this.snapshotSource = snapshotSource;
            return this;
        }

        /** This replica's clock, which only guesses Redis time between replies; system UTC by default. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /**
         * <b>For tests only.</b> Scripts use this clock's milliseconds instead of Redis {@code TIME}. Never set it in
         * production: replicas would each use their own clock.
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

        /**
         * Coalesced charges: a charge of a hash tag with no call in flight goes at once; the charges that find one in
         * flight wait for it together and go in one call of at most {@code size} charges when it comes back, when
         * the batch is full, or {@code window} after the first of them, whichever comes first. Off
         * ({@link Duration#ZERO}) by default. Each charge keeps its own idempotency key and reply; the price is up
         * to one call's round trip, and never more than {@code window}, of latency for a charge that waits, for
         * fewer Redis calls under load.
         */
        public Builder coalesceCharges(Duration window, int size) {
            this.chargeBatchWindow = window;
            this.chargeBatchSize = size;
            return this;
        }

        /**
         * Which limits a replica admits from slices it holds, without a call; {@link LeasedAdmission#markedLimitsOnly()}
         * by default. {@link LeasedAdmission#everyLimit()} leases every limit.
         */
        public Builder leasedAdmission(LeasedAdmission leasedAdmission) {
            this.leasedAdmission = leasedAdmission;
            return this;
        }

        public RedisStoreOptions build() {
            return new RedisStoreOptions(keyPrefix, commandTimeout, idempotencyKeyLifetime, expiredWindowRetention,
                    leaseDuration, sweepInterval, cacheDenials, denialRecheck, snapshotSource, clock,
                    testTimeSource, placement, chargeBatchWindow, chargeBatchSize, leasedAdmission);
        }
    }
}
