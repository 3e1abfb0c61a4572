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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * What the simulated callers send, as a gateway sees it over a day: nearly all requests come from tenants (the active
 * virtual keys) calling models they may use, weighted so that a few keys send most of the traffic; a few requests
 * come without a key, with a secret that matches no key, with a retired or expired key, or ask for a provider or
 * model the key may not use. Whether a tenant's request is admitted is the limits' business: the example
 * configuration keeps one or two tenants tight.
 *
 * <p>How much traffic each key sends: the weights given (the built-in example's own), else a Zipf-like share by the
 * key's place in the configuration (the first key 1, the second 1/2, the third 1/3, ...). Within a key, the
 * (provider, model) pairs it may call are weighted the same way, providers in configuration order and each
 * provider's models by name (a provider config keeps no order of its models).
 *
 * <p>Of every admitted call, most are answered whole, about a quarter are streamed in several chunks with usage on
 * the final chunk only, and a few fail part-way and are charged for what they consumed. Half of the checks carry
 * estimates.
 *
 * <p>Immutable and thread-safe; each worker draws from it with its own {@link SplittableRandom}.
 */
final class Workload {

    static final String UNKNOWN_SECRET = "fleet-secret-of-no-key";
    static final String DEFAULT_MODEL = "default-model";
    static final long ESTIMATED_TOKENS = 1_000;

    /** Shares of all requests that do not come from a tenant calling what it may call. */
    static final double NO_KEY_SHARE = 0.02;
    static final double UNKNOWN_KEY_SHARE = 0.01;
    static final double BLOCKED_KEY_SHARE = 0.01;
    static final double BLOCKED_PROVIDER_SHARE = 0.005;
    static final double BLOCKED_MODEL_SHARE = 0.01;
    /** Share of requests that carry no user. */
    static final double NO_USER_SHARE = 0.4;
    static final int STREAMED_PERCENT = 25;
    static final int FAILED_PERCENT = 5;
    static final int MIN_CHUNKS = 3;
    static final int MAX_CHUNKS = 8;

    /** What a request is, from the gateway's side. */
    enum Kind {
        TENANT("tenants"),
        NO_KEY("no key"),
        UNKNOWN_KEY("unknown key"),
        BLOCKED_KEY("blocked key"),
        BLOCKED_PROVIDER("blocked provider"),
        BLOCKED_MODEL("blocked model");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    /**
     * One destination of a request: its kind, the virtual key's id and secret (both {@code null} without a key; the
     * id {@code null} for an unknown key), a provider and a model.
     */
    record Target(Kind kind, String keyId, String secret, String provider, String model) {
        @Override
        public String toString() {
            return "Target[" + kind.label + ", key=" + keyId + ", provider=" + provider + ", model=" + model + "]";
        }
    }

    /** How an admitted upstream call went: answered whole, streamed in {@code chunks}, or failed part-way. */
    record Call(Shape shape, long tokens, int chunks) {
        enum Shape { WHOLE, STREAMED, FAILED }
    }

    private final Target[] targets;
    /** Running sums of the targets' weights, for a draw by binary search. */
    private final double[] cumulative;
    private final List<String> users;
    private final double[] userCumulative;

    Workload(GovernanceConfig config) {
        this(config, Map.of());
    }

    /**
     * The traffic for {@code config}; {@code keyWeights} (virtual key id to relative weight) sets how much each
     * active key sends, and when empty the keys get Zipf-like shares in configuration order.
     */
    Workload(GovernanceConfig config, Map<String, Double> keyWeights) {
        Map<String, List<String>> models = modelsByProvider(config);
        List<Pair> allPairs = new ArrayList<>();
        models.forEach((provider, names) -> names.forEach(model -> allPairs.add(new Pair(provider, model))));
        Instant now = Instant.now();

        List<Target> blockedKeys = new ArrayList<>();
        List<Target> blockedProviders = new ArrayList<>();
        List<Target> blockedModels = new ArrayList<>();
        // Per active key that may call something and has a weight: what it calls, most asked first.
        Map<VirtualKey, List<Target>> tenants = new LinkedHashMap<>();
        Map<VirtualKey, Double> tenantWeights = new LinkedHashMap<>();
        int place = 0;
        for (VirtualKey key : config.virtualKeys()) {
            List<Pair> allowed = allowedPairs(key, models, allPairs);
            if (key.isBlockedAt(now)) {
                blockedKeys.add(target(Kind.BLOCKED_KEY, key, allowed.isEmpty() ? allPairs.get(0) : allowed.get(0)));
                continue;
            }
            refused(key, models, blockedProviders, blockedModels);
            double weight = keyWeights.isEmpty() ? 1.0 / ++place : keyWeights.getOrDefault(key.id(), 0.0);
            if (weight > 0 && !allowed.isEmpty()) {
                tenants.put(key, allowed.stream().map(pair -> target(Kind.TENANT, key, pair)).toList());
                tenantWeights.put(key, weight);
            }
        }

        Mix mix = new Mix();
        double noKeyShare = NO_KEY_SHARE;
        double tenantShare = 1 - NO_KEY_SHARE - UNKNOWN_KEY_SHARE
                - (blockedKeys.isEmpty() ? 0 : BLOCKED_KEY_SHARE)
                - (blockedProviders.isEmpty() ? 0 : BLOCKED_PROVIDER_SHARE)
                - (blockedModels.isEmpty() ? 0 : BLOCKED_MODEL_SHARE);
        if (tenants.isEmpty()) {
            // No tenant can call anything: the gateway sees keyless and refused requests only.
            noKeyShare += tenantShare;
        }
        double weightSum = tenantWeights.values().stream().mapToDouble(Double::doubleValue).sum();
        tenants.forEach((key, targets) -> mix.zipf(tenantShare * tenantWeights.get(key) / weightSum, targets));
        mix.zipf(noKeyShare, allPairs.stream().map(pair -> new Target(Kind.NO_KEY, null, null, pair.provider(),
                pair.model())).toList());
        mix.even(UNKNOWN_KEY_SHARE, List.of(new Target(Kind.UNKNOWN_KEY, null, UNKNOWN_SECRET,
                allPairs.get(0).provider(), allPairs.get(0).model())));
        mix.even(BLOCKED_KEY_SHARE, blockedKeys);
        mix.even(BLOCKED_PROVIDER_SHARE, blockedProviders);
        mix.even(BLOCKED_MODEL_SHARE, blockedModels);
        this.targets = mix.targets.toArray(Target[]::new);
        this.cumulative = runningSums(mix.weights);

        List<String> userIds = new ArrayList<>();
        List<Double> userWeights = new ArrayList<>();
        for (User user : config.users()) {
            userIds.add(user.id());
            userWeights.add(1.0 / userIds.size());
        }
        this.users = List.copyOf(userIds);
        this.userCumulative = runningSums(userWeights);
    }

    /** A provider and one of its models. */
    private record Pair(String provider, String model) {
    }

    /** Targets with their weights, as the constructor adds them; not thread-safe. */
    private static final class Mix {
        final List<Target> targets = new ArrayList<>();
        final List<Double> weights = new ArrayList<>();

        /** {@code share} over {@code group}, the first 1, the second 1/2, the third 1/3, ... */
        void zipf(double share, List<Target> group) {
            double sum = 0;
            for (int j = 0; j < group.size(); j++) {
                sum += 1.0 / (j + 1);
            }
            for (int j = 0; j < group.size(); j++) {
                targets.add(group.get(j));
                weights.add(share / (j + 1) / sum);
            }
        }

        void even(double share, List<Target> group) {
            for (Target target : group) {
                targets.add(target);
                weights.add(share / group.size());
            }
        }
    }

    private static Target target(Kind kind, VirtualKey key, Pair pair) {
        return new Target(kind, key.id(), FleetConfig.secretOf(key.id()), pair.provider(), pair.model());
    }

    /** What {@code key} would be refused: providers it does not list, models its provider configs do not allow. */
    private static void refused(VirtualKey key, Map<String, List<String>> models, List<Target> blockedProviders,
                                List<Target> blockedModels) {
        if (key.providerConfigs().isEmpty()) {
            return;
        }
        for (Map.Entry<String, List<String>> provider : models.entrySet()) {
            ProviderConfig config = key.providerConfig(provider.getKey()).orElse(null);
            if (config == null) {
                blockedProviders.add(target(Kind.BLOCKED_PROVIDER, key,
                        new Pair(provider.getKey(), provider.getValue().get(0))));
                continue;
            }
            Set<String> candidates = new TreeSet<>(provider.getValue());
            candidates.addAll(config.blockedModels());
            candidates.remove(ProviderConfig.ANY_MODEL);
            for (String model : candidates) {
                if (!config.allowsModel(model)) {
                    blockedModels.add(target(Kind.BLOCKED_MODEL, key, new Pair(provider.getKey(), model)));
                }
            }
        }
    }

    private static double[] runningSums(List<Double> weights) {
        double[] sums = new double[weights.size()];
        double sum = 0;
        for (int i = 0; i < sums.length; i++) {
            sum += weights.get(i);
            sums[i] = sum;
        }
        return sums;
    }

    private static int draw(double[] cumulative, SplittableRandom random) {
        double point = random.nextDouble() * cumulative[cumulative.length - 1];
        int i = Arrays.binarySearch(cumulative, point);
        // Not found: the insertion point is the first sum above the point.
        return Math.min(i >= 0 ? i + 1 : -i - 1, cumulative.length - 1);
    }

    /**
     * Every provider the configuration names, in configuration order, each with the models named for it, by name
     * (never {@code *}). A model named without a provider (a model config for any provider) goes to the providers that
     * name it already, else to those that name no model, else to the first; a provider with no model gets
     * {@value #DEFAULT_MODEL}.
     */
    static Map<String, List<String>> modelsByProvider(GovernanceConfig config) {
        Map<String, Set<String>> models = new LinkedHashMap<>();
        Set<String> anyProvider = new TreeSet<>();
        for (VirtualKey key : config.virtualKeys()) {
            for (ProviderConfig provider : key.providerConfigs()) {
                Set<String> named = models.computeIfAbsent(provider.provider(), p -> new TreeSet<>());
                named.addAll(provider.allowedModels());
                named.addAll(provider.blockedModels());
            }
        }
        for (ModelConfig modelConfig : config.modelConfigs()) {
            if (modelConfig.provider() != null) {
                models.computeIfAbsent(modelConfig.provider(), p -> new TreeSet<>()).add(modelConfig.model());
            } else {
                anyProvider.add(modelConfig.model());
            }
        }
        if (models.isEmpty()) {
            models.put("openai", new TreeSet<>());
        }
        for (Set<String> named : models.values()) {
            named.remove(ProviderConfig.ANY_MODEL);
        }
        anyProvider.remove(ProviderConfig.ANY_MODEL);
        for (String model : anyProvider) {
            if (models.values().stream().anyMatch(named -> named.contains(model))) {
                continue;
            }
            List<Set<String>> empty = models.values().stream().filter(Set::isEmpty).toList();
            if (!empty.isEmpty()) {
                empty.forEach(named -> named.add(model));
            } else {
                models.values().iterator().next().add(model);
            }
        }
        Map<String, List<String>> lists = new LinkedHashMap<>();
        models.forEach((provider, named) -> lists.put(provider,
                named.isEmpty() ? List.of(DEFAULT_MODEL) : List.copyOf(named)));
        return lists;
    }

    /** The (provider, model) pairs {@code key} may call: every pair when it lists no providers. */
    private static List<Pair> allowedPairs(VirtualKey key, Map<String, List<String>> models, List<Pair> allPairs) {
        if (key.providerConfigs().isEmpty()) {
            return allPairs;
        }
        List<Pair> pairs = new ArrayList<>();
        for (ProviderConfig provider : key.providerConfigs()) {
            Set<String> candidates = new TreeSet<>();
            for (String model : provider.allowedModels()) {
                if (model.equals(ProviderConfig.ANY_MODEL)) {
                    candidates.addAll(models.getOrDefault(provider.provider(), List.of(DEFAULT_MODEL)));
                } else {
                    candidates.add(model);
                }
            }
            for (String model : candidates) {
                if (provider.allowsModel(model)) {
                    pairs.add(new Pair(provider.provider(), model));
                }
            }
        }
        return pairs;
    }

    Target target(SplittableRandom random) {
        return targets[draw(cumulative, random)];
    }

    /** A user for a request, or {@code null} for none; the first users named send the most. */
    String user(SplittableRandom random) {
        if (users.isEmpty() || random.nextDouble() < NO_USER_SHARE) {
            return null;
        }
        return users.get(draw(userCumulative, random));
    }

    CheckRequest check(Target target, String user, SplittableRandom random) {
        CheckRequest.Builder request = CheckRequest.builder().virtualKey(target.secret()).user(user)
                .provider(target.provider()).model(target.model());
        if (random.nextBoolean()) {
            request.estimatedTokens(ESTIMATED_TOKENS).estimatedCost(cost(target.model(), ESTIMATED_TOKENS));
        }
        return request.build();
    }

    /** How an admitted call goes. */
    Call call(SplittableRandom random) {
        long tokens = 50 + random.nextInt(1_500);
        int kind = random.nextInt(100);
        if (kind < STREAMED_PERCENT) {
            return new Call(Call.Shape.STREAMED, tokens, MIN_CHUNKS + random.nextInt(MAX_CHUNKS - MIN_CHUNKS + 1));
        }
        if (kind < STREAMED_PERCENT + FAILED_PERCENT) {
            // Cancelled or timed out after part of the answer: what was consumed is still charged.
            return new Call(Call.Shape.FAILED, tokens / 3, 1);
        }
        return new Call(Call.Shape.WHOLE, tokens, 1);
    }

    /** A made-up price: 0.5 to 2.5 dollars per million tokens, by model. */
    static Money cost(String model, long tokens) {
        long nanosPerToken = 500 + Math.floorMod(model.hashCode(), 5) * 500L;
        return Money.ofNanos(tokens * nanosPerToken);
    }

    /** The tenant target that gets the most requests (the busiest of any kind when no tenant sends). */
    Target busiest() {
        int best = 0;
        for (int i = 1; i < targets.length; i++) {
            boolean tenant = targets[i].kind() == Kind.TENANT;
            boolean bestTenant = targets[best].kind() == Kind.TENANT;
            if (tenant != bestTenant ? tenant : weight(i) > weight(best)) {
                best = i;
            }
        }
        return targets[best];
    }

    private double weight(int i) {
        return cumulative[i] - (i == 0 ? 0 : cumulative[i - 1]);
    }

    /** The number of distinct targets. */
    int size() {
        return targets.length;
    }

    /** The share of requests that go to {@code kind}, from the weights. */
    double share(Kind kind) {
        double total = cumulative[cumulative.length - 1];
        double share = 0;
        for (int i = 0; i < targets.length; i++) {
            if (targets[i].kind() == kind) {
                share += weight(i);
            }
        }
        return share / total;
    }
}
