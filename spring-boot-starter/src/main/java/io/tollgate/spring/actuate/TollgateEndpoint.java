package io.tollgate.spring.actuate;

import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.HolderKind;
import io.tollgate.Limit;
import io.tollgate.spi.CounterState;
import io.tollgate.spring.TollgateConfigSource;
import io.tollgate.spring.TollgateStores;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The actuator endpoint {@code tollgate}: {@code GET /actuator/tollgate} shows the store and the configuration in
 * force (its source, version and size); {@code GET /actuator/tollgate/{kind}/{id}} (kind {@code customer},
 * {@code team}, {@code virtual-key}, {@code user} or {@code model-config}) shows that holder's limits with their
 * current usage and windows. Never a secret: virtual keys are shown by id.
 *
 * <p>Thread-safe.
 */
@Endpoint(id = "tollgate")
public class TollgateEndpoint {

    private static final long READ_TIMEOUT_SECONDS = 5;

    private final TollgateStores stores;
    private final TollgateConfigSource config;

    public TollgateEndpoint(TollgateStores stores, TollgateConfigSource config) {
        this.stores = stores;
        this.config = config;
    }

    @ReadOperation
    public Map<String, Object> summary() {
        GovernanceConfig current = config.get();
        Map<String, Object> configuration = new LinkedHashMap<>();
        configuration.put("source", config.description());
        configuration.put("version", config.version());
        configuration.put("customers", current.customers().size());
        configuration.put("teams", current.teams().size());
        configuration.put("virtualKeys", current.virtualKeys().size());
        configuration.put("users", current.users().size());
        configuration.put("modelConfigs", current.modelConfigs().size());
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("store", stores.store().toString());
        summary.put("config", configuration);
        return summary;
    }

    @ReadOperation
    public Map<String, Object> holder(@Selector String kind, @Selector String id) throws Exception {
        Holder holder = new Holder(kindOf(kind), id);
        List<Limit> limits = config.get().limitsOf(holder);
        List<Map<String, Object>> usage = new ArrayList<>();
        if (!limits.isEmpty()) {
            for (CounterState state : stores.store().read(limits).toCompletableFuture()
                    .get(READ_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("metric", state.limit().metric().name().toLowerCase(Locale.ROOT));
                row.put("max", state.limit().max());
                row.put("used", state.used());
                row.put("remaining", Math.max(0, state.limit().max() - state.used()));
                if (!state.window().isUnbounded()) {
                    row.put("windowStart", state.window().start().toString());
                    state.window().end().ifPresent(end -> row.put("windowEnd", end.toString()));
                }
                usage.add(row);
            }
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("holder", holder.toString());
        answer.put("configVersion", config.version());
        answer.put("limits", usage);
        return answer;
    }

    private static HolderKind kindOf(String kind) {
        String name = kind.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return HolderKind.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("kind: '" + kind + "' is not one of customer, team, virtual-key, user,"
                    + " model-config");
        }
    }
}
