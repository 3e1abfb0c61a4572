package io.tollgate;

import io.tollgate.internal.Checks;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a virtual key may do with one provider: which models are allowed ({@code *} allows all, an empty set none)
 * and which are blocked (a blocked model is refused even when allowed), with budgets and a rate limit of its own.
 *
 * <p>Immutable and thread-safe.
 */
public record ProviderConfig(String provider, Set<String> allowedModels, Set<String> blockedModels,
                             List<Budget> budgets, RateLimit rateLimit) {

    public static final String ANY_MODEL = "*";

    public ProviderConfig {
        Checks.notBlank("ProviderConfig.provider", provider);
        allowedModels = models("ProviderConfig.allowedModels", allowedModels);
        blockedModels = models("ProviderConfig.blockedModels", blockedModels);
        budgets = Checks.list("ProviderConfig.budgets", budgets);
    }

    /** A provider config that allows every model and has no limits of its own. */
    public static ProviderConfig allowAll(String provider) {
        return new ProviderConfig(provider, Set.of(ANY_MODEL), Set.of(), List.of(), null);
    }

    public boolean allowsModel(String model) {
        if (blockedModels.contains(model) || blockedModels.contains(ANY_MODEL)) {
            return false;
        }
        return allowedModels.contains(ANY_MODEL) || allowedModels.contains(model);
    }

    private static Set<String> models(String field, Set<String> models) {
        if (models == null) {
            return Set.of();
        }
        Set<String> copy = new LinkedHashSet<>();
        int i = 0;
        for (String model : models) {
            copy.add(Checks.notBlank(field + "[" + i++ + "]", model));
        }
        return Set.copyOf(copy);
    }
}
