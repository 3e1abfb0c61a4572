package io.tollgate;

import io.tollgate.internal.Checks;
import io.tollgate.internal.LimitResolver;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The whole governance configuration: customers, teams, virtual keys, users and model configs, checked as a whole
 * (unique ids and secret hashes, references that resolve, a virtual key's customer equal to its team's).
 *
 * <p>Immutable and thread-safe; replace it as a whole to change it.
 */
public final class GovernanceConfig {

    private static final GovernanceConfig EMPTY = new GovernanceConfig(List.of(), List.of(), List.of(), List.of(), List.of());

    private final List<Customer> customers;
    private final List<Team> teams;
    private final List<VirtualKey> virtualKeys;
    private final List<User> users;
    private final List<ModelConfig> modelConfigs;

    private final Map<String, Customer> customersById;
    private final Map<String, Team> teamsById;
    private final Map<String, VirtualKey> virtualKeysById;
    private final Map<String, VirtualKey> virtualKeysByHash;
    private final Map<String, User> usersById;

    public GovernanceConfig(List<Customer> customers, List<Team> teams, List<VirtualKey> virtualKeys, List<User> users,
                            List<ModelConfig> modelConfigs) {
        this.customers = Checks.list("customers", customers);
        this.teams = Checks.list("teams", teams);
        this.virtualKeys = Checks.list("virtualKeys", virtualKeys);
        this.users = Checks.list("users", users);
        this.modelConfigs = Checks.list("modelConfigs", modelConfigs);

        this.customersById = index("customers", this.customers, Customer::id);
        this.teamsById = index("teams", this.teams, Team::id);
        this.virtualKeysById = index("virtualKeys", this.virtualKeys, VirtualKey::id);
        this.usersById = index("users", this.users, User::id);
        index("modelConfigs", this.modelConfigs, ModelConfig::id);
        this.virtualKeysByHash = new HashMap<>();
        for (int i = 0; i < this.virtualKeys.size(); i++) {
            VirtualKey key = this.virtualKeys.get(i);
            VirtualKey other = virtualKeysByHash.putIfAbsent(key.secretHash(), key);
            if (other != null) {
                throw new IllegalArgumentException("virtualKeys[" + i + "].secretHash: the same secret as virtual key "
                        + other.id());
            }
        }
        checkReferences();
    }

    public static GovernanceConfig empty() {
        return EMPTY;
    }

    public static Builder builder() {
        return new Builder();
    }

    private void checkReferences() {
        for (int i = 0; i < teams.size(); i++) {
            Team team = teams.get(i);
            if (team.customerId() != null && !customersById.containsKey(team.customerId())) {
                throw new IllegalArgumentException("teams[" + i + "].customerId: \"" + team.customerId()
                        + "\" is not a customer");
            }
        }
        for (int i = 0; i < virtualKeys.size(); i++) {
            VirtualKey key = virtualKeys.get(i);
            String path = "virtualKeys[" + i + "]";
            if (key.teamId() != null && !teamsById.containsKey(key.teamId())) {
                throw new IllegalArgumentException(path + ".teamId: \"" + key.teamId() + "\" is not a team");
            }
            if (key.customerId() != null && !customersById.containsKey(key.customerId())) {
                throw new IllegalArgumentException(path + ".customerId: \"" + key.customerId() + "\" is not a customer");
            }
            if (key.teamId() != null && key.customerId() != null) {
                String teamCustomer = teamsById.get(key.teamId()).customerId();
                if (!key.customerId().equals(teamCustomer)) {
                    throw new IllegalArgumentException(path + ".customerId: \"" + key.customerId()
                            + "\" is not the customer of team \"" + key.teamId() + "\"");
                }
            }
        }
        for (int i = 0; i < modelConfigs.size(); i++) {
            ModelConfig config = modelConfigs.get(i);
            String path = "modelConfigs[" + i + "].scopeId";
            if (config.scope() == ModelConfig.Scope.VIRTUAL_KEY && !virtualKeysById.containsKey(config.scopeId())) {
                throw new IllegalArgumentException(path + ": \"" + config.scopeId() + "\" is not a virtual key");
            }
            if (config.scope() == ModelConfig.Scope.USER && !usersById.containsKey(config.scopeId())) {
                throw new IllegalArgumentException(path + ": \"" + config.scopeId() + "\" is not a user");
            }
        }
    }

    private static <T> Map<String, T> index(String field, List<T> values, Function<T, String> id) {
        Map<String, T> byId = new HashMap<>();
        for (int i = 0; i < values.size(); i++) {
            T value = values.get(i);
            if (byId.putIfAbsent(id.apply(value), value) != null) {
                throw new IllegalArgumentException(field + "[" + i + "].id: \"" + id.apply(value) + "\" is used twice");
            }
        }
        return Map.copyOf(byId);
    }

    public List<Customer> customers() {
        return customers;
    }

    public List<Team> teams() {
        return teams;
    }

    public List<VirtualKey> virtualKeys() {
        return virtualKeys;
    }

    public List<User> users() {
        return users;
    }

    public List<ModelConfig> modelConfigs() {
        return modelConfigs;
    }

    public Optional<Customer> customer(String id) {
        return Optional.ofNullable(customersById.get(id));
    }

    public Optional<Team> team(String id) {
        return Optional.ofNullable(teamsById.get(id));
    }

    public Optional<VirtualKey> virtualKey(String id) {
        return Optional.ofNullable(virtualKeysById.get(id));
    }

    /** The virtual key whose secret hashes to {@code secretHash}. */
    public Optional<VirtualKey> virtualKeyByHash(String secretHash) {
        return Optional.ofNullable(virtualKeysByHash.get(secretHash));
    }

    public Optional<User> user(String id) {
        return Optional.ofNullable(usersById.get(id));
    }

    /**
     * The limits of {@code holder}'s own budgets and rate limit (not those of the levels above it), as a check lists
     * them; empty for a holder this configuration does not have.
     */
    public List<Limit> limitsOf(Holder holder) {
        Objects.requireNonNull(holder, "holder");
        String id = holder.id();
        return switch (holder.kind()) {
            case CUSTOMER -> customer(id).map(c -> LimitResolver.limitsOf(holder, c.budgets(), c.rateLimit()))
                    .orElse(List.of());
            case TEAM -> team(id).map(t -> LimitResolver.limitsOf(holder, t.budgets(), t.rateLimit()))
                    .orElse(List.of());
            case VIRTUAL_KEY -> virtualKey(id).map(k -> LimitResolver.limitsOf(holder, k.budgets(), k.rateLimit()))
                    .orElse(List.of());
            case USER -> user(id).map(u -> LimitResolver.limitsOf(holder, u.budgets(), u.rateLimit()))
                    .orElse(List.of());
            case MODEL_CONFIG -> modelConfigs.stream().filter(m -> m.id().equals(id)).findFirst()
                    .map(m -> LimitResolver.limitsOf(holder, m.budgets(), m.rateLimit())).orElse(List.of());
            case PROVIDER_CONFIG -> virtualKeys.stream().flatMap(k -> k.providerConfigs().stream()
                            .filter(pc -> Holder.providerConfig(k.id(), pc.provider()).equals(holder)))
                    .findFirst().map(pc -> LimitResolver.limitsOf(holder, pc.budgets(), pc.rateLimit()))
                    .orElse(List.of());
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GovernanceConfig other
                && customers.equals(other.customers)
                && teams.equals(other.teams)
                && virtualKeys.equals(other.virtualKeys)
                && users.equals(other.users)
                && modelConfigs.equals(other.modelConfigs);
    }

    @Override
    public int hashCode() {
        return Objects.hash(customers, teams, virtualKeys, users, modelConfigs);
    }

    @Override
    public String toString() {
        return "GovernanceConfig[" + customers.size() + " customers, " + teams.size() + " teams, " + virtualKeys.size()
                + " virtual keys, " + users.size() + " users, " + modelConfigs.size() + " model configs]";
    }

    /** Collects entities for a {@link GovernanceConfig}; not thread-safe. */
    public static final class Builder {
        private final List<Customer> customers = new java.util.ArrayList<>();
        private final List<Team> teams = new java.util.ArrayList<>();
        private final List<VirtualKey> virtualKeys = new java.util.ArrayList<>();
        private final List<User> users = new java.util.ArrayList<>();
        private final List<ModelConfig> modelConfigs = new java.util.ArrayList<>();

        private Builder() {
        }

        public Builder customer(Customer customer) {
            customers.add(customer);
            return this;
        }

        public Builder team(Team team) {
            teams.add(team);
            return this;
        }

        public Builder virtualKey(VirtualKey virtualKey) {
            virtualKeys.add(virtualKey);
            return this;
        }

        public Builder user(User user) {
            users.add(user);
            return this;
        }

        public Builder modelConfig(ModelConfig modelConfig) {
            modelConfigs.add(modelConfig);
            return this;
        }

        public GovernanceConfig build() {
            return new GovernanceConfig(customers, teams, virtualKeys, users, modelConfigs);
        }
    }
}
