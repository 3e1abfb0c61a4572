package io.tollgate.internal;

import io.tollgate.Budget;
import io.tollgate.CounterId;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ModelConfig;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.Team;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.spi.CounterOps;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Resolves one request to the de-duplicated flat list of every limit that applies, for one configuration. Lists are
 * cached per (virtual key, user, provider, model), since a gateway sees the same few combinations over and over.
 *
 * <p>Thread-safe.
 */
public final class LimitResolver {

    // Callers may send many distinct model names and user ids; a bounded cache keeps the busy shapes.
    private static final int MAX_CACHED = 65_536;

    private final GovernanceConfig config;
    private final Cache<Key, Resolved> cache = Caffeine.newBuilder().maximumSize(MAX_CACHED).build();
    // A secret is hashed once, not on every request; only secrets of known keys are kept, so callers that send
    // made-up secrets cannot push the real ones out.
    private final Cache<String, VirtualKey> keysBySecret = Caffeine.newBuilder().maximumSize(MAX_CACHED).build();

    public LimitResolver(GovernanceConfig config) {
        this.config = config;
    }

    public GovernanceConfig config() {
        return config;
    }

    /** The virtual key whose secret is {@code secret}, or null when there is none. */
    public VirtualKey virtualKey(String secret) {
        VirtualKey key = keysBySecret.getIfPresent(secret);
        if (key == null) {
            key = config.virtualKeyByHash(Secrets.sha256Hex(secret)).orElse(null);
            if (key != null) {
                keysBySecret.put(secret, key);
            }
        }
        return key;
    }

    /**
     * Every limit of the request, in order: virtual key, its provider config, team, customer, user, matching model
     * configs; within a holder requests, tokens, then cost. {@code key}, {@code userId}, {@code provider} and
     * {@code model} may each be {@code null} to skip their levels.
     */
    public List<Limit> limits(VirtualKey key, String userId, String provider, String model) {
        return resolved(key, userId, provider, model).limits();
    }

    /** {@link #limits}, with what is derived from them and kept with them. */
    public Resolved resolved(VirtualKey key, String userId, String provider, String model) {
        Key cacheKey = new Key(key == null ? null : key.id(), userId, provider, model);
        Resolved resolved = cache.getIfPresent(cacheKey);
        return resolved != null ? resolved
                : cache.get(cacheKey, k -> new Resolved(resolve(key, userId, provider, model)));
    }

    private List<Limit> resolve(VirtualKey key, String userId, String provider, String model) {
        Map<CounterId, Limit> limits = new LinkedHashMap<>();
        boolean providerAndModel = provider != null && model != null;
        if (key != null) {
            add(limits, Holder.virtualKey(key.id()), key.budgets(), key.rateLimit());
            if (providerAndModel) {
                key.providerConfig(provider).ifPresent(pc -> add(limits,
                        Holder.providerConfig(key.id(), provider), pc.budgets(), pc.rateLimit()));
            }
            String customerId = key.customerId();
            if (key.teamId() != null) {
                Team team = config.team(key.teamId()).orElseThrow();
                add(limits, Holder.team(team.id()), team.budgets(), team.rateLimit());
                if (team.customerId() != null) {
                    customerId = team.customerId();
                }
            }
            if (customerId != null) {
                config.customer(customerId).ifPresent(customer ->
                        add(limits, Holder.customer(customer.id()), customer.budgets(), customer.rateLimit()));
            }
        }
        User user = userId == null ? null : config.user(userId).orElse(null);
        if (user != null) {
            add(limits, Holder.user(user.id()), user.budgets(), user.rateLimit());
        }
        if (providerAndModel) {
            for (ModelConfig modelConfig : config.modelConfigs()) {
                if (modelConfig.matches(model, provider) && inScope(modelConfig, key, user)) {
                    add(limits, Holder.modelConfig(modelConfig.id()), modelConfig.budgets(), modelConfig.rateLimit());
                }
            }
        }
        return List.copyOf(limits.values());
    }

    private static boolean inScope(ModelConfig modelConfig, VirtualKey key, User user) {
        return switch (modelConfig.scope()) {
            case GLOBAL -> true;
            case VIRTUAL_KEY -> key != null && key.id().equals(modelConfig.scopeId());
            case USER -> user != null && user.id().equals(modelConfig.scopeId());
        };
    }

    /** The limits of one holder's own budgets and rate limit, in the order a check lists them. */
    public static List<Limit> limitsOf(Holder holder, List<Budget> budgets, RateLimit rateLimit) {
        Map<CounterId, Limit> limits = new LinkedHashMap<>();
        add(limits, holder, budgets, rateLimit);
        return List.copyOf(limits.values());
    }

    private static void add(Map<CounterId, Limit> limits, Holder holder, List<Budget> budgets, RateLimit rateLimit) {
        if (rateLimit != null && rateLimit.hasRequestLimit()) {
            add(limits, new Limit(holder, Metric.REQUESTS, rateLimit.requestMax(), rateLimit.requestWindow(),
                    rateLimit.leased()));
        }
        if (rateLimit != null && rateLimit.hasTokenLimit()) {
            add(limits, new Limit(holder, Metric.TOKENS, rateLimit.tokenMax(), rateLimit.tokenWindow(),
                    rateLimit.leased()));
        }
        for (Budget budget : budgets) {
            add(limits, new Limit(holder, Metric.COST, budget.max().nanos(), budget.window(), budget.leased()));
        }
        if (rateLimit != null && rateLimit.hasInFlightLimit()) {
            add(limits, new Limit(holder, Metric.IN_FLIGHT, rateLimit.inFlightMax(), WindowSpec.unbounded()));
        }
    }

    // Two limits on one counter would count it twice; the stricter one stands for both.
    private static void add(Map<CounterId, Limit> limits, Limit limit) {
        limits.merge(limit.counterId(), limit, (a, b) -> a.max() <= b.max() ? a : b);
    }

    /** The provider and model rules of {@code key}: whether it may call {@code model} at {@code provider}. */
    public static ProviderVerdict providerVerdict(VirtualKey key, String provider, String model) {
        if (provider == null || key.providerConfigs().isEmpty()) {
            return ProviderVerdict.ALLOWED;
        }
        ProviderConfig config = key.providerConfig(provider).orElse(null);
        if (config == null) {
            return ProviderVerdict.PROVIDER_BLOCKED;
        }
        if (model != null && !config.allowsModel(model)) {
            return ProviderVerdict.MODEL_BLOCKED;
        }
        return ProviderVerdict.ALLOWED;
    }

    /** Whether a virtual key may use a provider and model. */
    public enum ProviderVerdict {
        ALLOWED,
        PROVIDER_BLOCKED,
        MODEL_BLOCKED
    }

    private record Key(String keyId, String userId, String provider, String model) {
    }

    /**
     * One request shape's resolved list, and the ops that reserve it for the last estimates asked for, so that a
     * gateway whose callers send the same estimates builds no ops. A shape checked with some of its limits in shadow
     * has a view of its own ({@link #shadowing}), whose ops send those limits with an unreachable maximum.
     * Thread-safe.
     */
    public static final class Resolved {
        /** The maximum a shadowed limit is sent with: no counter reaches it, so the store counts but never refuses. */
        public static final long UNREACHABLE = Long.MAX_VALUE;

        private final List<Limit> limits;
        private final List<Limit> sent;
        private final boolean[] shadowed;
        private final boolean shadowsAll;
        private volatile ReserveOps last;
        private volatile Shadowing shadowing;

        Resolved(List<Limit> limits) {
            this(limits, limits, null);
        }

        private Resolved(List<Limit> limits, List<Limit> sent, boolean[] shadowed) {
            this.limits = limits;
            this.sent = sent;
            this.shadowed = shadowed;
            boolean all = shadowed != null;
            for (int i = 0; all && i < shadowed.length; i++) {
                all = shadowed[i];
            }
            this.shadowsAll = all;
        }

        /** The limits, the same list object for as long as the configuration is the same. */
        public List<Limit> limits() {
            return limits;
        }

        /**
         * The limits as the ops send them: {@link #limits()}, but a shadowed limit with the maximum
         * {@link #UNREACHABLE}; the same list object for as long as the configuration and the view are the same.
         */
        public List<Limit> sent() {
            return sent;
        }

        /** Whether the limit at {@code index} is checked in shadow. */
        public boolean isShadowed(int index) {
            return shadowed != null && shadowed[index];
        }

        /** Whether any limit is checked in shadow. */
        public boolean shadowsAny() {
            return shadowed != null;
        }

        /** Whether there are limits and every one of them is checked in shadow. */
        public boolean shadowsAll() {
            return shadowsAll && !limits.isEmpty();
        }

        /**
         * This shape with the limits {@code shadowed} accepts checked in shadow; this very view when it accepts none.
         * The predicate is asked once per limit, and the view kept for the next call with the same predicate.
         */
        public Resolved shadowing(Predicate<Limit> shadowed) {
            Shadowing cached = shadowing;
            if (cached != null && cached.predicate == shadowed) {
                return cached.view;
            }
            int n = limits.size();
            boolean[] mask = new boolean[n];
            Limit[] sentLimits = new Limit[n];
            boolean any = false;
            for (int i = 0; i < n; i++) {
                Limit limit = limits.get(i);
                mask[i] = shadowed.test(limit);
                any |= mask[i];
                sentLimits[i] = mask[i] && limit.max() != UNREACHABLE
                        ? new Limit(limit.holder(), limit.metric(), UNREACHABLE, limit.window(), limit.leased())
                        : limit;
            }
            Resolved view = any ? new Resolved(limits, List.of(sentLimits), mask) : this;
            shadowing = new Shadowing(shadowed, view);
            return view;
        }

        /**
         * The ops that reserve a request over {@link #sent()}: one request slot kept at each request limit, the
         * estimates held at each token and cost limit, one slot held at each in-flight limit.
         */
        public CounterOps reserveOps(long estimatedTokens, long estimatedCostNanos) {
            ReserveOps cached = last;
            if (cached != null && cached.tokens == estimatedTokens && cached.cost == estimatedCostNanos) {
                return cached.ops;
            }
            int n = sent.size();
            long[] amounts = new long[n];
            long[] holds = new long[n];
            for (int i = 0; i < n; i++) {
                switch (sent.get(i).metric()) {
                    case REQUESTS -> amounts[i] = 1;
                    case TOKENS -> holds[i] = estimatedTokens;
                    case COST -> holds[i] = estimatedCostNanos;
                    case IN_FLIGHT -> holds[i] = 1;
                }
            }
            CounterOps ops = CounterOps.of(sent, amounts, holds);
            last = new ReserveOps(estimatedTokens, estimatedCostNanos, ops);
            return ops;
        }
    }

    private record Shadowing(Predicate<Limit> predicate, Resolved view) {
    }

    private record ReserveOps(long tokens, long cost, CounterOps ops) {
    }

}
