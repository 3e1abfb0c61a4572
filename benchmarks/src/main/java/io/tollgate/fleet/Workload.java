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
        List<String[]> allPairs = new ArrayList<>();
        models.forEach((provider, names) -> names.forEach(model -> allPairs.add(new String[] {provider, model})));
        Instant now = Instant.now();

        List<VirtualKey> active = new ArrayList<>();
        List<VirtualKey> blocked = new ArrayList<>();
        for (VirtualKey key : config.virtualKeys()) {
            (key.isBlockedAt(now) ? blocked : active).add(key);
        }
        List<Target> all = new ArrayList<>();
        List<Double> weights = new ArrayList<>();

        // The shares of the odd requests first; tenants get what is left.
        List<Target> blockedKeys = new ArrayList<>();
        for (VirtualKey key : blocked) {
            String[] pair = allowedPairs(key, models, allPairs).stream().findFirst().orElse(allPairs.get(0));
            blockedKeys.add(new Target(Kind.BLOCKED_KEY, key.id(), FleetConfig.secretOf(key.id()), pair[0], pair[1]));
        }
        List<Target> blockedProviders = new ArrayList<>();
        List<Target> blockedModels = new ArrayList<>();
        for (VirtualKey key : active) {
            if (key.providerConfigs().isEmpty()) {
                continue;
            }
            String secret = FleetConfig.secretOf(key.id());
            for (Map.Entry<String, List<String>> provider : models.entrySet()) {
                ProviderConfig providerConfig = key.providerConfig(provider.getKey()).orElse(null);
                if (providerConfig == null) {
                    blockedProviders.add(new Target(Kind.BLOCKED_PROVIDER, key.id(), secret, provider.getKey(),
                            provider.getValue().get(0)));
                    continue;
                }
                Set<String> candidates = new TreeSet<>(provider.getValue());
                candidates.addAll(providerConfig.blockedModels());
                candidates.remove(ProviderConfig.ANY_MODEL);
                for (String model : candidates) {
                    if (!providerConfig.allowsModel(model)) {
                        blockedModels.add(new Target(Kind.BLOCKED_MODEL, key.id(), secret, provider.getKey(), model));
                    }
                }
            }
        }
        List<List<String[]>> tenantPairs = new ArrayList<>();
        List<Double> tenantWeights = new ArrayList<>();
        for (int i = 0; i < active.size(); i++) {
            VirtualKey key = active.get(i);
            double weight = keyWeights.isEmpty() ? 1.0 / (i + 1) : keyWeights.getOrDefault(key.id(), 0.0);
            List<String[]> pairs = allowedPairs(key, models, allPairs);
            // A key that may call nothing sends only its blocked requests.
            if (weight > 0 && !pairs.isEmpty()) {
                tenantPairs.add(pairs);
                tenantWeights.add(weight);
            } else {
                tenantPairs.add(List.of());
                tenantWeights.add(0.0);
            }
        }
        double tenantWeightSum = tenantWeights.stream().mapToDouble(Double::doubleValue).sum();

        double noKeyShare = NO_KEY_SHARE;
        double oddShare = NO_KEY_SHARE + UNKNOWN_KEY_SHARE + (blockedKeys.isEmpty() ? 0 : BLOCKED_KEY_SHARE)
                + (blockedProviders.isEmpty() ? 0 : BLOCKED_PROVIDER_SHARE)
                + (blockedModels.isEmpty() ? 0 : BLOCKED_MODEL_SHARE);
        double tenantShare = 1 - oddShare;
        if (tenantWeightSum == 0) {
            // No tenant can call anything: the gateway only sees keyless and refused traffic.
            noKeyShare += tenantShare;
            tenantShare = 0;
        }
        for (int i = 0; i < active.size(); i++) {
            if (tenantWeights.get(i) == 0) {
                continue;
            }
            VirtualKey key = active.get(i);
            double keyShare = tenantShare * tenantWeights.get(i) / tenantWeightSum;
            addZipf(all, weights, keyShare, tenantPairs.get(i), pair ->
                    new Target(Kind.TENANT, key.id(), FleetConfig.secretOf(key.id()), pair[0], pair[1]));
        }
        addZipf(all, weights, noKeyShare, allPairs, pair -> new Target(Kind.NO_KEY, null, null, pair[0], pair[1]));
        String[] first = allPairs.get(0);
        all.add(new Target(Kind.UNKNOWN_KEY, null, UNKNOWN_SECRET, first[0], first[1]));
        weights.add(UNKNOWN_KEY_SHARE);
        addEven(all, weights, BLOCKED_KEY_SHARE, blockedKeys);
        addEven(all, weights, BLOCKED_PROVIDER_SHARE, blockedProviders);
        addEven(all, weights, BLOCKED_MODEL_SHARE, blockedModels);

        this.targets = all.toArray(Target[]::new);
        this.cumulative = runningSums(weights);
        List<String> userIds = new ArrayList<>();
        List<Double> userWeights = new ArrayList<>();
        for (User user : config.users()) {
            userIds.add(user.id());
            userWeights.add(1.0 / userIds.size());
        }
        this.users = List.copyOf(userIds);
        this.userCumulative = runningSums(userWeights);
    }

    private static void addZipf(List<Target> all, List<Double> weights, double share, List<String[]> pairs,
                                java.util.function.Function<String[], Target> target) {
        double sum = 0;
        for (int j = 0; j < pairs.size(); j++) {
            sum += 1.0 / (j + 1);
        }
        for (int j = 0; j < pairs.size(); j++) {
            all.add(target.apply(pairs.get(j)));
            weights.add(share / (j + 1) / sum);
        }
    }

    private static void addEven(List<Target> all, List<Double> weights, double share, List<Target> targets) {
        for (Target target : targets) {
            all.add(target);
            weights.add(share / targets.size());
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
    private static List<String[]> allowedPairs(VirtualKey key, Map<String, List<String>> models,
                                               List<String[]> allPairs) {
        if (key.providerConfigs().isEmpty()) {
            return allPairs;
        }
        List<String[]> pairs = new ArrayList<>();
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
                    pairs.add(new String[] {provider.provider(), model});
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
