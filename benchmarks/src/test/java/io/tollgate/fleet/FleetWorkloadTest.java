package io.tollgate.fleet;

import io.tollgate.BudgetResolver;
import io.tollgate.ConfigLoader;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Outcome;
import io.tollgate.memory.InMemoryGovernanceStore;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.within;

class FleetWorkloadTest {

    private static final int DRAWS = 100_000;

    private final FleetConfig example = FleetConfig.load(null);
    private final Workload workload = new Workload(example.config(), example.keyWeights());

    @Test
    void theExampleSendsNearlyEveryRequestFromTenantsAndAFewOfEachOtherKind() {
        Map<Workload.Kind, Integer> kinds = new EnumMap<>(Workload.Kind.class);
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < DRAWS; i++) {
            kinds.merge(workload.target(random).kind(), 1, Integer::sum);
        }

        assertThat(share(kinds, Workload.Kind.TENANT)).isCloseTo(0.945, within(0.005));
        assertThat(share(kinds, Workload.Kind.NO_KEY)).isCloseTo(Workload.NO_KEY_SHARE, within(0.002));
        assertThat(share(kinds, Workload.Kind.UNKNOWN_KEY)).isCloseTo(Workload.UNKNOWN_KEY_SHARE, within(0.002));
        assertThat(share(kinds, Workload.Kind.BLOCKED_KEY)).isCloseTo(Workload.BLOCKED_KEY_SHARE, within(0.002));
        assertThat(share(kinds, Workload.Kind.BLOCKED_PROVIDER))
                .isCloseTo(Workload.BLOCKED_PROVIDER_SHARE, within(0.002));
        assertThat(share(kinds, Workload.Kind.BLOCKED_MODEL)).isCloseTo(Workload.BLOCKED_MODEL_SHARE, within(0.002));
        assertThat(workload.share(Workload.Kind.TENANT)).isCloseTo(0.945, within(1e-9));
    }

    @Test
    void theExampleTenantsSendAsTheirWeightsSay() {
        Map<String, Integer> keys = tenantDraws(workload);
        double total = keys.values().stream().mapToInt(Integer::intValue).sum();
        double weights = example.keyWeights().values().stream().mapToDouble(Double::doubleValue).sum();

        assertThat(keys).containsOnlyKeys(example.keyWeights().keySet());
        example.keyWeights().forEach((key, weight) ->
                assertThat(keys.get(key) / total).as(key).isCloseTo(weight / weights, within(0.01)));
    }

    @Test
    void aFileWithoutWeightsGivesItsKeysZipfLikeSharesInFileOrder() {
        GovernanceConfig config = ConfigLoader.parse("""
                { "virtualKeys": [
                    { "id": "first", "secret": "s1" },
                    { "id": "second", "secret": "s2" },
                    { "id": "third", "secret": "s3" }
                ] }
                """);
        Map<String, Integer> keys = tenantDraws(new Workload(config));
        double first = keys.get("first");

        assertThat(keys.get("second") / first).isCloseTo(1 / 2.0, within(0.03));
        assertThat(keys.get("third") / first).isCloseTo(1 / 3.0, within(0.03));
    }

    @Test
    void eachKindOfRequestGetsTheAnswerItStandsFor() {
        GovernanceConfig config = example.config();
        Map<Workload.Kind, Map<Outcome, Integer>> answers = new EnumMap<>(Workload.Kind.class);
        try (InMemoryGovernanceStore store = InMemoryGovernanceStore.create()) {
            // A fresh store and fewer requests than any open limit's max: every answer is the request's own.
            BudgetResolver resolver = BudgetResolver.create(store, config);
            SplittableRandom random = new SplittableRandom(3);
            for (int i = 0; i < 1_000; i++) {
                Workload.Target target = workload.target(random);
                if (target.keyId() != null && target.keyId().matches("vk-globex-direct|vk-initech-trial")) {
                    continue;
                }
                Decision decision = resolver.check(workload.check(target, workload.user(random), random));
                answers.computeIfAbsent(target.kind(), k -> new EnumMap<>(Outcome.class))
                        .merge(decision.outcome(), 1, Integer::sum);
            }
        }

        assertThat(answers.get(Workload.Kind.TENANT)).containsOnlyKeys(Outcome.ALLOWED);
        assertThat(answers.get(Workload.Kind.NO_KEY)).containsOnlyKeys(Outcome.ALLOWED);
        assertThat(answers.get(Workload.Kind.UNKNOWN_KEY)).containsOnlyKeys(Outcome.VIRTUAL_KEY_NOT_FOUND);
        assertThat(answers.get(Workload.Kind.BLOCKED_KEY)).containsOnlyKeys(Outcome.VIRTUAL_KEY_BLOCKED);
        assertThat(answers.get(Workload.Kind.BLOCKED_PROVIDER)).containsOnlyKeys(Outcome.PROVIDER_BLOCKED);
        assertThat(answers.get(Workload.Kind.BLOCKED_MODEL)).containsOnlyKeys(Outcome.MODEL_BLOCKED);
    }

    @Test
    void modelsNamedForAnyProviderGoWhereTheyAreNamedElseToProvidersWithoutModels() {
        GovernanceConfig config = ConfigLoader.parse("""
                { "virtualKeys": [
                    { "id": "k", "secret": "s", "providerConfigs": [
                        { "provider": "openai", "allowedModels": [ "gpt-4o" ] },
                        { "provider": "mistral", "allowedModels": [ "*" ] } ] }
                  ],
                  "modelConfigs": [
                    { "id": "any-gpt", "model": "gpt-4o", "rateLimit": { "tokenMax": 5, "tokenResetPeriod": "1s" } },
                    { "id": "any-small", "model": "small", "rateLimit": { "tokenMax": 5, "tokenResetPeriod": "1s" } }
                  ] }
                """);

        assertThat(Workload.modelsByProvider(config))
                .containsOnly(entry("openai", List.of("gpt-4o")), entry("mistral", List.of("small")));
    }

    @Test
    void aConfigurationWithoutKeysSendsKeylessAndUnknownKeyRequests() {
        GovernanceConfig config = ConfigLoader.parse("""
                { "users": [ { "id": "u", "rateLimit": { "requestMax": 5, "requestResetPeriod": "1s" } } ] }
                """);
        Workload keyless = new Workload(config);

        assertThat(keyless.share(Workload.Kind.NO_KEY)).isCloseTo(1 - Workload.UNKNOWN_KEY_SHARE, within(1e-9));
        assertThat(keyless.share(Workload.Kind.UNKNOWN_KEY)).isCloseTo(Workload.UNKNOWN_KEY_SHARE, within(1e-9));
        assertThat(keyless.target(new SplittableRandom(5)).provider()).isEqualTo("openai");
    }

    @Test
    void aboutAQuarterOfCallsStreamInSeveralChunksAndAFewFail() {
        Map<Workload.Call.Shape, Integer> shapes = new EnumMap<>(Workload.Call.Shape.class);
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < DRAWS; i++) {
            Workload.Call call = workload.call(random);
            shapes.merge(call.shape(), 1, Integer::sum);
            if (call.shape() == Workload.Call.Shape.STREAMED) {
                assertThat(call.chunks()).isBetween(Workload.MIN_CHUNKS, Workload.MAX_CHUNKS);
            }
        }

        assertThat(shapes.get(Workload.Call.Shape.STREAMED) / (double) DRAWS)
                .isCloseTo(Workload.STREAMED_PERCENT / 100.0, within(0.01));
        assertThat(shapes.get(Workload.Call.Shape.FAILED) / (double) DRAWS)
                .isCloseTo(Workload.FAILED_PERCENT / 100.0, within(0.01));
    }

    private static Map<String, Integer> tenantDraws(Workload workload) {
        Map<String, Integer> keys = new HashMap<>();
        SplittableRandom random = new SplittableRandom(2);
        for (int i = 0; i < DRAWS; i++) {
            Workload.Target target = workload.target(random);
            if (target.kind() == Workload.Kind.TENANT) {
                keys.merge(target.keyId(), 1, Integer::sum);
            }
        }
        return keys;
    }

    private static double share(Map<Workload.Kind, Integer> kinds, Workload.Kind kind) {
        return kinds.getOrDefault(kind, 0) / (double) DRAWS;
    }
}
