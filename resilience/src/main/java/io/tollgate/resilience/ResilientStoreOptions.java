package io.tollgate.resilience;

import io.tollgate.Limit;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * Options of a {@link ResilientGovernanceStore}. Start from {@link #defaults()} or {@link #builder()}.
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>what it does</th></tr>
 *   <tr><td>{@code policy}</td><td>{@link FailurePolicy#LOCAL}</td><td>what answers while the primary cannot</td></tr>
 *   <tr><td>{@code policyOverride}</td><td>none</td><td>a policy per limit, overriding {@code policy}</td></tr>
 *   <tr><td>{@code expectedReplicas}</td><td>1</td><td>replicas sharing the primary: {@code LOCAL} admits
 *       {@code max / expectedReplicas} per replica</td></tr>
 *   <tr><td>{@code timeout}</td><td>the primary's own plus {@code timeoutGuard}</td><td>bound on every call; the
 *       policy answers when it passes</td></tr>
 *   <tr><td>{@code timeoutGuard}</td><td>100 ms</td><td>added to a Redis primary's command timeout (500 ms for
 *       any other primary) when {@code timeout} is not set</td></tr>
 *   <tr><td>{@code failureRateThreshold}</td><td>50 %</td><td>failed calls that open the circuit</td></tr>
 *   <tr><td>{@code slidingWindowSize}</td><td>20</td><td>last calls the failure rate is computed over</td></tr>
 *   <tr><td>{@code minimumNumberOfCalls}</td><td>5</td><td>calls needed before the rate is judged</td></tr>
 *   <tr><td>{@code waitInOpenState}</td><td>1 s</td><td>time between probes while the circuit is open</td></tr>
 *   <tr><td>{@code unavailableRetryAfter}</td><td>1 s</td><td>{@code Retry-After} of a fail-closed denial</td></tr>
 *   <tr><td>{@code bufferCapacity}</td><td>100,000</td><td>charges kept for replay; beyond it they are dropped
 *       (counted, logged once)</td></tr>
 *   <tr><td>{@code replayBatchSize}</td><td>100</td><td>charges sent at once when replaying</td></tr>
 *   <tr><td>{@code replayRate}</td><td>10,000 / s</td><td>replay pace, so that a returning Redis is not
 *       flooded</td></tr>
 *   <tr><td>{@code replayLogCapacity}</td><td>200,000</td><td>acknowledged usage kept until a snapshot flush
 *       holds it</td></tr>
 *   <tr><td>{@code clock}</td><td>system UTC</td><td>the local clock of degraded answers</td></tr>
 * </table>
 *
 * <p>Immutable and thread-safe (as long as {@code policyOverride} is).
 *
 * @param policy                the failure policy of every limit that {@code policyOverride} does not decide
 * @param policyOverride        a policy per limit, or null (or a null answer) for {@code policy}
 * @param expectedReplicas      how many replicas share the primary; {@link FailurePolicy#LOCAL} admits each its share
 * @param timeout               bound on every call to the primary, or null for the primary's own plus
 *                              {@code timeoutGuard}
 * @param timeoutGuard          margin over the primary's own timeout when {@code timeout} is null
 * @param failureRateThreshold  percentage of failed calls, in {@code (0, 100]}, at which the circuit opens
 * @param slidingWindowSize     how many of the last calls the failure rate is computed over
 * @param minimumNumberOfCalls  how many calls the window must have seen before the rate is judged
 * @param waitInOpenState       how long the circuit stays open before the primary is probed again
 * @param unavailableRetryAfter the {@code Retry-After} of a {@link FailurePolicy#FAIL_CLOSED} denial
 * @param bufferCapacity        the most charges buffered while the primary cannot take them
 * @param replayBatchSize       how many buffered charges are sent at once when the primary is back
 * @param replayRate            the most buffered charges replayed per second
 * @param replayLogCapacity     the most acknowledged charges and reservations kept until a snapshot flush that
 *                              reads through the store holds them (0 turns the replay log off); size it to at least
 *                              (checks + charges per second) x (flush interval + a flush's duration): each entry
 *                              keeps its request's ops, some 200 bytes
 * @param clock                 the local clock: windows of degraded answers and of the local shares
 */
public record ResilientStoreOptions(
        FailurePolicy policy,
        Function<Limit, FailurePolicy> policyOverride,
        int expectedReplicas,
        Duration timeout,
        Duration timeoutGuard,
        float failureRateThreshold,
        int slidingWindowSize,
        int minimumNumberOfCalls,
        Duration waitInOpenState,
        Duration unavailableRetryAfter,
        int bufferCapacity,
        int replayBatchSize,
        int replayRate,
        int replayLogCapacity,
        Clock clock) {

    private static final ResilientStoreOptions DEFAULTS = builder().build();

    public ResilientStoreOptions {
        Objects.requireNonNull(policy, "ResilientStoreOptions.policy: must be set");
        Objects.requireNonNull(clock, "ResilientStoreOptions.clock: must be set");
        atLeast("expectedReplicas", expectedReplicas, 1);
        if (timeout != null) {
            positive("timeout", timeout);
        }
        notNegative("timeoutGuard", timeoutGuard);
        if (!(failureRateThreshold > 0 && failureRateThreshold <= 100)) {
            throw new IllegalArgumentException("ResilientStoreOptions.failureRateThreshold: " + failureRateThreshold
                    + " must be above 0 and at most 100");
        }
        atLeast("slidingWindowSize", slidingWindowSize, 1);
        atLeast("minimumNumberOfCalls", minimumNumberOfCalls, 1);
        if (minimumNumberOfCalls > slidingWindowSize) {
            throw new IllegalArgumentException("ResilientStoreOptions.minimumNumberOfCalls: " + minimumNumberOfCalls
                    + " must not exceed slidingWindowSize " + slidingWindowSize);
        }
        positive("waitInOpenState", waitInOpenState);
        notNegative("unavailableRetryAfter", unavailableRetryAfter);
        atLeast("bufferCapacity", bufferCapacity, 1);
        atLeast("replayBatchSize", replayBatchSize, 1);
        atLeast("replayRate", replayRate, 1);
        atLeast("replayLogCapacity", replayLogCapacity, 0);
    }

    /** Every option at its default. */
    public static ResilientStoreOptions defaults() {
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

    /** The policy of {@code limit}: the override's answer when it has one, else {@link #policy()}. */
    public FailurePolicy policyOf(Limit limit) {
        if (policyOverride == null) {
            return policy;
        }
        FailurePolicy chosen = policyOverride.apply(limit);
        return chosen == null ? policy : chosen;
    }

    /** A limit's share under {@link FailurePolicy#LOCAL}: {@code max / expectedReplicas}, at least 1. */
    public long shareOf(long max) {
        return Math.max(1, max / expectedReplicas);
    }

    private static void atLeast(String field, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException("ResilientStoreOptions." + field + ": " + value + " must be at least "
                    + min);
        }
    }

    private static void positive(String field, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("ResilientStoreOptions." + field + ": " + value + " must be positive");
        }
    }

    private static void notNegative(String field, Duration value) {
        if (value == null || value.isNegative()) {
            throw new IllegalArgumentException("ResilientStoreOptions." + field + ": " + value
                    + " must be zero or positive");
        }
    }

    /** Builds {@link ResilientStoreOptions}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private FailurePolicy policy = FailurePolicy.LOCAL;
        private Function<Limit, FailurePolicy> policyOverride;
        private int expectedReplicas = 1;
        private Duration timeout;
        private Duration timeoutGuard = Duration.ofMillis(100);
        private float failureRateThreshold = 50;
        private int slidingWindowSize = 20;
        private int minimumNumberOfCalls = 5;
        private Duration waitInOpenState = Duration.ofSeconds(1);
        private Duration unavailableRetryAfter = Duration.ofSeconds(1);
        private int bufferCapacity = 100_000;
        private int replayBatchSize = 100;
        private int replayRate = 10_000;
        private int replayLogCapacity = 200_000;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        private Builder(ResilientStoreOptions options) {
            policy = options.policy;
            policyOverride = options.policyOverride;
            expectedReplicas = options.expectedReplicas;
            timeout = options.timeout;
            timeoutGuard = options.timeoutGuard;
            failureRateThreshold = options.failureRateThreshold;
            slidingWindowSize = options.slidingWindowSize;
            minimumNumberOfCalls = options.minimumNumberOfCalls;
            waitInOpenState = options.waitInOpenState;
            unavailableRetryAfter = options.unavailableRetryAfter;
            bufferCapacity = options.bufferCapacity;
            replayBatchSize = options.replayBatchSize;
            replayRate = options.replayRate;
            replayLogCapacity = options.replayLogCapacity;
            clock = options.clock;
        }

        /** The failure policy of the deployment; {@link FailurePolicy#LOCAL} by default. */
        public Builder policy(FailurePolicy policy) {
            this.policy = policy;
            return this;
        }

        /**
         * A policy per limit, such as {@code limit -> limit.metric() == Metric.COST ? FailurePolicy.FAIL_CLOSED :
         * null} (budgets closed, rate limits as the deployment says) or by {@code limit.holder().kind()}. A null
         * answer means {@link #policy}. A request with any {@code FAIL_CLOSED} limit is denied; otherwise its
         * {@code LOCAL} limits decide and its {@code FAIL_OPEN} limits are read as unused. Called on the hot path:
         * keep it cheap.
         */
        public Builder policyFor(Function<Limit, FailurePolicy> policyOverride) {
            this.policyOverride = policyOverride;
            return this;
        }

        /** How many replicas share the primary; 1 by default. */
        public Builder expectedReplicas(int expectedReplicas) {
            this.expectedReplicas = expectedReplicas;
            return this;
        }

        /** Bound on every call; by default the primary's own timeout plus {@link #timeoutGuard}. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Margin over the primary's own timeout; 100 ms by default. */
        public Builder timeoutGuard(Duration timeoutGuard) {
            this.timeoutGuard = timeoutGuard;
            return this;
        }

        /** Failure percentage that opens the circuit; 50 by default. */
        public Builder failureRateThreshold(float failureRateThreshold) {
            this.failureRateThreshold = failureRateThreshold;
            return this;
        }

        /** Calls the failure rate is computed over; 20 by default. */
        public Builder slidingWindowSize(int slidingWindowSize) {
            this.slidingWindowSize = slidingWindowSize;
            return this;
        }

        /** Calls needed before the failure rate is judged; 5 by default. */
        public Builder minimumNumberOfCalls(int minimumNumberOfCalls) {
            this.minimumNumberOfCalls = minimumNumberOfCalls;
            return this;
        }

        /** Time between probes of a primary whose circuit is open; 1 second by default. */
        public Builder waitInOpenState(Duration waitInOpenState) {
            this.waitInOpenState = waitInOpenState;
            return this;
        }

        /** {@code Retry-After} of a fail-closed denial; 1 second by default. */
        public Builder unavailableRetryAfter(Duration unavailableRetryAfter) {
            this.unavailableRetryAfter = unavailableRetryAfter;
            return this;
        }

        /** The most charges buffered while the primary cannot take them; 100,000 by default. */
        public Builder bufferCapacity(int bufferCapacity) {
            this.bufferCapacity = bufferCapacity;
            return this;
        }

        /** Buffered charges sent at once when replaying; 100 by default. */
        public Builder replayBatchSize(int replayBatchSize) {
            this.replayBatchSize = replayBatchSize;
            return this;
        }

        /** The most buffered charges replayed per second; 10,000 by default. */
        public Builder replayRate(int replayRate) {
            this.replayRate = replayRate;
            return this;
        }

        /** Acknowledged usage kept until a flush holds it; 200,000 by default, 0 for none. */
        public Builder replayLogCapacity(int replayLogCapacity) {
            this.replayLogCapacity = replayLogCapacity;
            return this;
        }

        /** The local clock of degraded answers; system UTC by default. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public ResilientStoreOptions build() {
            return new ResilientStoreOptions(policy, policyOverride, expectedReplicas, timeout, timeoutGuard,
                    failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                    unavailableRetryAfter, bufferCapacity, replayBatchSize, replayRate, replayLogCapacity,
                    clock);
        }
    }
}
