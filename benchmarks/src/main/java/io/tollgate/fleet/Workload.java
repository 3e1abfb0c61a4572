package io.tollgate.fleet;

import io.tollgate.CheckRequest;
import io.tollgate.GovernanceConfig;
import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.ProviderConfig;
import io.tollgate.User;
import io.tollgate.VirtualKey;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * What the simulated callers send: every (virtual key, provider, model) the configuration mentions, including blocked
 * providers and models and inactive keys, with a user or none, and a few unknown keys and keyless requests. Half of
 * the checks carry estimates.
 *
 * <p>Immutable and thread-safe; each worker draws from it with its own {@link SplittableRandom}.
 */
final class Workload {

    static final String UNKNOWN_SECRET = "fleet-secret-of-no-key";
    static final long ESTIMATED_TOKENS = 1_000;

    private final List<Target> targets;
    private final List<String> users;

    /** One destination of a request: a virtual key's secret (or {@code null}), a provider and a model. */
    record Target(String secret, String provider, String model) {
        @Override
        public String toString() {
            return "Target[provider=" + provider + ", model=" + model + "]";
        }
    }

    Workload(GovernanceConfig config) {
        Map<String, Set<String>> models = modelsByProvider(config);
        List<Target> all = new ArrayList<>();
        Instant now = Instant.now();
        for (VirtualKey key : config.virtualKeys()) {
            if (key.isBlockedAt(now)) {
                // One target is enough to see a blocked key refused; more would crowd out the limits.
                Map.Entry<String, Set<String>> any = models.entrySet().iterator().next();
                all.add(new Target(FleetConfig.secretOf(key.id()), any.getKey(), any.getValue().iterator().next()));
                continue;
            }
            for (Map.Entry<String, Set<String>> provider : models.entrySet()) {
                for (String model : provider.getValue()) {
                    all.add(new Target(FleetConfig.secretOf(key.id()), provider.getKey(), model));
                }
            }
        }
        // A few requests with an unknown key, and a few without any key (user and model levels only).
        Map.Entry<String, Set<String>> first = models.entrySet().iterator().next();
        String model = first.getValue().iterator().next();
        int extra = Math.max(1, all.size() / 50);
        for (int i = 0; i < extra; i++) {
            all.add(new Target(UNKNOWN_SECRET, first.getKey(), model));
            all.add(new Target(null, first.getKey(), model));
        }
        this.targets = List.copyOf(all);
        List<String> userIds = new ArrayList<>();
        for (User user : config.users()) {
            userIds.add(user.id());
        }
        this.users = List.copyOf(userIds);
    }

    /** Every provider the configuration names, each with every model named for it (never {@code *}). */
    static Map<String, Set<String>> modelsByProvider(GovernanceConfig config) {
        Map<String, Set<String>> models = new LinkedHashMap<>();
        Set<String> anyProvider = new LinkedHashSet<>();
        for (VirtualKey key : config.virtualKeys()) {
            for (ProviderConfig provider : key.providerConfigs()) {
                Set<String> named = models.computeIfAbsent(provider.provider(), p -> new LinkedHashSet<>());
                named.addAll(provider.allowedModels());
                named.addAll(provider.blockedModels());
            }
        }
        for (ModelConfig modelConfig : config.modelConfigs()) {
            if (modelConfig.provider() != null) {
                models.computeIfAbsent(modelConfig.provider(), p -> new LinkedHashSet<>()).add(modelConfig.model());
            } else {
                anyProvider.add(modelConfig.model());
            }
        }
        if (models.isEmpty()) {
            models.put("openai", new LinkedHashSet<>());
        }
        for (Set<String> named : models.values()) {
            named.addAll(anyProvider);
            named.remove(ProviderConfig.ANY_MODEL);
            if (named.isEmpty()) {
                named.add("default-model");
            }
        }
        return models;
    }

    Target target(SplittableRandom random) {
        return targets.get(random.nextInt(targets.size()));
    }

    /** A user for a request, or {@code null} for none (about a third of requests). */
    String user(SplittableRandom random) {
        if (users.isEmpty() || random.nextInt(3) == 0) {
            return null;
        }
        return users.get(random.nextInt(users.size()));
    }

    CheckRequest check(Target target, String user, SplittableRandom random) {
        CheckRequest.Builder request = CheckRequest.builder().virtualKey(target.secret()).user(user)
                .provider(target.provider()).model(target.model());
        if (random.nextBoolean()) {
            request.estimatedTokens(ESTIMATED_TOKENS).estimatedCost(cost(target.model(), ESTIMATED_TOKENS));
        }
        return request.build();
    }

    /** A made-up price: 0.5 to 2.5 dollars per million tokens, by model. */
    static Money cost(String model, long tokens) {
        long nanosPerToken = 500 + Math.floorMod(model.hashCode(), 5) * 500L;
        return Money.ofNanos(tokens * nanosPerToken);
    }

    int size() {
        return targets.size();
    }
}
