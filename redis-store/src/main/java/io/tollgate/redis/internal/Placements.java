package io.tollgate.redis.internal;

import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.HolderKind;
import io.tollgate.ModelConfig;
import io.tollgate.Team;
import io.tollgate.VirtualKey;
import io.tollgate.redis.RedisPlacement;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/** The built-in {@link RedisPlacement}s. Thread-safe. */
public final class Placements {

    /** Each holder alone, a provider config with its key. */
    public static final RedisPlacement PER_HOLDER = new PerHolder();

    private Placements() {
    }

    /**
     * The virtual key id of a provider config holder id ({@code key/provider}, {@code %} and {@code /} escaped in
     * either part, as {@link Holder#providerConfig} writes it), or null if the id is not of that form.
     */
    static String providerConfigKey(String id) {
        int slash = id.indexOf('/');
        if (slash <= 0) {
            return null;
        }
        String part = id.substring(0, slash);
        if (part.indexOf('%') < 0) {
            return part;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(part.length());
        byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '%' && i + 2 < bytes.length && bytes[i + 1] == '2'
                    && (bytes[i + 2] == '5' || bytes[i + 2] == 'F')) {
                out.write(bytes[i + 2] == '5' ? '%' : '/');
                i += 2;
            } else {
                out.write(bytes[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static final class PerHolder implements RedisPlacement {
        @Override
        public Holder anchor(Holder holder) {
            if (holder.kind() == HolderKind.PROVIDER_CONFIG) {
                String key = providerConfigKey(holder.id());
                if (key != null) {
                    return Holder.virtualKey(key);
                }
            }
            return holder;
        }

        @Override
        public String toString() {
            return "RedisPlacement.perHolder()";
        }
    }

    /** Tenant roots from the configuration; the version is the configuration object itself. */
    public static final class ByTenant implements RedisPlacement {
        private final Supplier<GovernanceConfig> config;
        /** Model configs by id of the last configuration seen: the configuration lists them without an index. */
        private volatile Indexed indexed;

        public ByTenant(Supplier<GovernanceConfig> config) {
            this.config = config;
        }

        @Override
        public Object version() {
            return config.get();
        }

        @Override
        public Holder anchor(Holder holder) {
            GovernanceConfig current = config.get();
            if (current == null) {
                return PER_HOLDER.anchor(holder);
            }
            return switch (holder.kind()) {
                case VIRTUAL_KEY -> current.virtualKey(holder.id()).map(key -> root(current, key)).orElse(holder);
                case PROVIDER_CONFIG -> {
                    String key = providerConfigKey(holder.id());
                    yield key == null ? holder : anchor(Holder.virtualKey(key));
                }
                case TEAM -> current.team(holder.id()).map(Team::customerId).map(Holder::customer).orElse(holder);
                case CUSTOMER, USER -> holder;
                case MODEL_CONFIG -> {
                    ModelConfig model = modelConfigs(current).get(holder.id());
                    if (model == null) {
                        yield holder;
                    }
                    yield switch (model.scope()) {
                        case GLOBAL -> holder;
                        case VIRTUAL_KEY -> anchor(Holder.virtualKey(model.scopeId()));
                        case USER -> Holder.user(model.scopeId());
                    };
                }
            };
        }

        /** The customer of the key's team, else the key's customer, else its team, else the key (as the resolver). */
        private static Holder root(GovernanceConfig config, VirtualKey key) {
            String customerId = key.customerId();
            if (key.teamId() != null) {
                String teamCustomer = config.team(key.teamId()).map(Team::customerId).orElse(null);
                if (teamCustomer != null) {
                    customerId = teamCustomer;
                }
                if (customerId == null) {
                    return Holder.team(key.teamId());
                }
            }
            return customerId == null ? Holder.virtualKey(key.id()) : Holder.customer(customerId);
        }

        private Map<String, ModelConfig> modelConfigs(GovernanceConfig config) {
            Indexed last = indexed;
            if (last == null || last.config != config) {
                Map<String, ModelConfig> byId = new HashMap<>();
                for (ModelConfig model : config.modelConfigs()) {
                    byId.put(model.id(), model);
                }
                last = new Indexed(config, byId);
                indexed = last;
            }
            return last.byId;
        }

        @Override
        public String toString() {
            return "RedisPlacement.byTenant(" + config + ")";
        }

        private record Indexed(GovernanceConfig config, Map<String, ModelConfig> byId) {
        }
    }
}
