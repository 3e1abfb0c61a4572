package io.tollgate.jdbc.internal;

import io.tollgate.Budget;
import io.tollgate.ConfigException;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.HolderKind;
import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.Team;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.jdbc.internal.ConfigRows.BudgetRow;
import io.tollgate.jdbc.internal.ConfigRows.CustomerRow;
import io.tollgate.jdbc.internal.ConfigRows.ModelConfigRow;
import io.tollgate.jdbc.internal.ConfigRows.ProviderConfigRow;
import io.tollgate.jdbc.internal.ConfigRows.ProviderModelRow;
import io.tollgate.jdbc.internal.ConfigRows.RateLimitRow;
import io.tollgate.jdbc.internal.ConfigRows.TeamRow;
import io.tollgate.jdbc.internal.ConfigRows.UserRow;
import io.tollgate.jdbc.internal.ConfigRows.VirtualKeyRow;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Converts between the governance model and the configuration rows: reads a whole configuration, writes or deletes
 * one entity with its budgets and rate limit, or everything at once. Validation of the configuration as a whole is
 * the caller's, through {@link GovernanceConfig}'s constructor, before anything is written.
 *
 * <p>Stateless and thread-safe; the DAO passed in belongs to the caller's transaction.
 */
public final class ConfigCodec {

    /** Column widths of the schema, in characters. */
    static final int MAX_ID = 255;
    static final int MAX_NAME = 1024;
    static final int MAX_WINDOW_ID = 100;

    private static final String NO_PROVIDER = "";

    private ConfigCodec() {
    }

    /**
     * Reads the whole configuration, in the order entities were first written.
     *
     * @throws ConfigException if the stored rows do not form a valid configuration (edited by hand, say)
     */
    public static GovernanceConfig read(ConfigDao dao) {
        try {
            Map<LimitKey, List<Budget>> budgets = new HashMap<>();
            for (BudgetRow row : dao.selectBudgets()) {
                budgets.computeIfAbsent(new LimitKey(row.holderKind(), row.holderId(), row.provider()), k -> new ArrayList<>())
                        .add(new Budget(Money.ofNanos(row.maxNanos()), window(row.windowId()), row.leased()));
            }
            Map<LimitKey, RateLimit> rateLimits = new HashMap<>();
            for (RateLimitRow row : dao.selectRateLimits()) {
                rateLimits.put(new LimitKey(row.holderKind(), row.holderId(), row.provider()), new RateLimit(row.tokenMax(),
                        window(row.tokenWindowId()), row.requestMax(), window(row.requestWindowId()),
                        row.inFlightMax(), row.leased()));
            }
            Limits limits = new Limits(budgets, rateLimits);

            List<Customer> customers = new ArrayList<>();
            for (CustomerRow row : dao.selectCustomers()) {
                LimitKey key = LimitKey.of(HolderKind.CUSTOMER, row.id());
                customers.add(new Customer(row.id(), row.name(), limits.budgets(key), limits.rateLimit(key)));
            }
            List<Team> teams = new ArrayList<>();
            for (TeamRow row : dao.selectTeams()) {
                LimitKey key = LimitKey.of(HolderKind.TEAM, row.id());
                teams.add(new Team(row.id(), row.name(), row.customerId(), limits.budgets(key), limits.rateLimit(key)));
            }
            List<VirtualKey> virtualKeys = readVirtualKeys(dao, limits);
            List<User> users = new ArrayList<>();
            for (UserRow row : dao.selectUsers()) {
                LimitKey key = LimitKey.of(HolderKind.USER, row.id());
                users.add(new User(row.id(), limits.budgets(key), limits.rateLimit(key)));
            }
            List<ModelConfig> modelConfigs = new ArrayList<>();
            for (ModelConfigRow row : dao.selectModelConfigs()) {
                LimitKey key = LimitKey.of(HolderKind.MODEL_CONFIG, row.id());
                modelConfigs.add(new ModelConfig(row.id(), row.model(), row.provider(),
                        ModelConfig.Scope.valueOf(row.scope()), row.scopeId(), limits.budgets(key), limits.rateLimit(key)));
            }
            return new GovernanceConfig(customers, teams, virtualKeys, users, modelConfigs);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("the configuration stored in the tollgate_* tables is not valid: " + e.getMessage(), e);
        }
    }

    private static List<VirtualKey> readVirtualKeys(ConfigDao dao, Limits limits) {
        Map<ProviderKey, Set<String>> allowed = new HashMap<>();
        Map<ProviderKey, Set<String>> blocked = new HashMap<>();
        for (ProviderModelRow row : dao.selectProviderModels()) {
            Map<ProviderKey, Set<String>> target = switch (row.rule()) {
                case ProviderModelRow.ALLOWED -> allowed;
                case ProviderModelRow.BLOCKED -> blocked;
                default -> throw new IllegalArgumentException("tollgate_provider_model.rule: \"" + row.rule()
                        + "\" is neither ALLOWED nor BLOCKED");
            };
            target.computeIfAbsent(new ProviderKey(row.virtualKeyId(), row.provider()), k -> new HashSet<>()).add(row.model());
        }
        Map<String, List<ProviderConfig>> providers = new HashMap<>();
        for (ProviderConfigRow row : dao.selectProviderConfigs()) {
            ProviderKey key = new ProviderKey(row.virtualKeyId(), row.provider());
            LimitKey limitKey = new LimitKey(HolderKind.PROVIDER_CONFIG.name(), row.virtualKeyId(), row.provider());
            providers.computeIfAbsent(row.virtualKeyId(), k -> new ArrayList<>()).add(new ProviderConfig(row.provider(),
                    allowed.getOrDefault(key, Set.of()), blocked.getOrDefault(key, Set.of()),
                    limits.budgets(limitKey), limits.rateLimit(limitKey)));
        }
        List<VirtualKey> keys = new ArrayList<>();
        for (VirtualKeyRow row : dao.selectVirtualKeys()) {
            LimitKey key = LimitKey.of(HolderKind.VIRTUAL_KEY, row.id());
            keys.add(new VirtualKey(row.id(), row.name(), row.secretHash(), row.teamId(), row.customerId(), row.active(),
                    fromEpochSeconds(row.expiresAt()), providers.getOrDefault(row.id(), List.of()),
                    limits.budgets(key), limits.rateLimit(key)));
        }
        return keys;
    }

    public static void writeCustomer(ConfigDao dao, Customer customer) {
        deleteLimits(dao, HolderKind.CUSTOMER, customer.id());
        Rows rows = new Rows();
        rows.add(customer);
        rows.write(dao);
    }

    public static void writeTeam(ConfigDao dao, Team team) {
        deleteLimits(dao, HolderKind.TEAM, team.id());
        Rows rows = new Rows();
        rows.add(team);
        rows.write(dao);
    }

    public static void writeVirtualKey(ConfigDao dao, VirtualKey key) {
        deleteLimits(dao, HolderKind.VIRTUAL_KEY, key.id());
        deleteLimits(dao, HolderKind.PROVIDER_CONFIG, key.id());
        dao.deleteProviderConfigs(key.id());
        Rows rows = new Rows();
        rows.add(key);
        rows.write(dao);
    }

    public static void writeUser(ConfigDao dao, User user) {
        deleteLimits(dao, HolderKind.USER, user.id());
        Rows rows = new Rows();
        rows.add(user);
        rows.write(dao);
    }

    public static void writeModelConfig(ConfigDao dao, ModelConfig config) {
        deleteLimits(dao, HolderKind.MODEL_CONFIG, config.id());
        Rows rows = new Rows();
        rows.add(config);
        rows.write(dao);
    }

    public static void deleteCustomer(ConfigDao dao, String id) {
        deleteLimits(dao, HolderKind.CUSTOMER, id);
        dao.deleteCustomer(id);
    }

    public static void deleteTeam(ConfigDao dao, String id) {
        deleteLimits(dao, HolderKind.TEAM, id);
        dao.deleteTeam(id);
    }

    public static void deleteVirtualKey(ConfigDao dao, String id) {
        deleteLimits(dao, HolderKind.VIRTUAL_KEY, id);
        deleteLimits(dao, HolderKind.PROVIDER_CONFIG, id);
        dao.deleteVirtualKey(id);
    }

    public static void deleteUser(ConfigDao dao, String id) {
        deleteLimits(dao, HolderKind.USER, id);
        dao.deleteUser(id);
    }

    public static void deleteModelConfig(ConfigDao dao, String id) {
        deleteLimits(dao, HolderKind.MODEL_CONFIG, id);
        dao.deleteModelConfig(id);
    }

    /** Empties the configuration tables and writes {@code config}, in its order. */
    public static void replaceAll(ConfigDao dao, GovernanceConfig config) {
        // children before parents, for the foreign keys
        dao.deleteAllModelConfigs();
        dao.deleteAllBudgets();
        dao.deleteAllRateLimits();
        dao.deleteAllVirtualKeys();
        dao.deleteAllUsers();
        dao.deleteAllTeams();
        dao.deleteAllCustomers();
        Rows rows = new Rows();
        config.customers().forEach(rows::add);
        config.teams().forEach(rows::add);
        config.virtualKeys().forEach(rows::add);
        config.users().forEach(rows::add);
        config.modelConfigs().forEach(rows::add);
        rows.write(dao);
    }

    /**
     * Checks that every text of {@code config} fits its column, so that a too long id is refused with its field's
     * name instead of failing (or, on a server without strict mode, being cut short) in the database.
     *
     * @throws IllegalArgumentException naming the field
     */
    public static void checkFits(GovernanceConfig config) {
        config.customers().forEach(ConfigCodec::checkFits);
        config.teams().forEach(ConfigCodec::checkFits);
        config.virtualKeys().forEach(ConfigCodec::checkFits);
        config.users().forEach(ConfigCodec::checkFits);
        config.modelConfigs().forEach(ConfigCodec::checkFits);
    }

    public static void checkFits(Customer customer) {
        fits("Customer.id", customer.id(), MAX_ID);
        fits("Customer.name", customer.name(), MAX_NAME);
        checkLimits("Customer " + customer.id(), customer.budgets(), customer.rateLimit());
    }

    public static void checkFits(Team team) {
        fits("Team.id", team.id(), MAX_ID);
        fits("Team.name", team.name(), MAX_NAME);
        fits("Team.customerId", team.customerId(), MAX_ID);
        checkLimits("Team " + team.id(), team.budgets(), team.rateLimit());
    }

    public static void checkFits(VirtualKey key) {
        fits("VirtualKey.id", key.id(), MAX_ID);
        fits("VirtualKey.name", key.name(), MAX_NAME);
        fits("VirtualKey.teamId", key.teamId(), MAX_ID);
        fits("VirtualKey.customerId", key.customerId(), MAX_ID);
        for (ProviderConfig config : key.providerConfigs()) {
            fits("ProviderConfig.provider", config.provider(), MAX_ID);
            config.allowedModels().forEach(model -> fits("ProviderConfig.allowedModels", model, MAX_ID));
            config.blockedModels().forEach(model -> fits("ProviderConfig.blockedModels", model, MAX_ID));
            checkLimits("ProviderConfig " + key.id() + "/" + config.provider(), config.budgets(), config.rateLimit());
        }
        checkLimits("VirtualKey " + key.id(), key.budgets(), key.rateLimit());
    }

    public static void checkFits(User user) {
        fits("User.id", user.id(), MAX_ID);
        checkLimits("User " + user.id(), user.budgets(), user.rateLimit());
    }

    public static void checkFits(ModelConfig config) {
        fits("ModelConfig.id", config.id(), MAX_ID);
        fits("ModelConfig.model", config.model(), MAX_ID);
        fits("ModelConfig.provider", config.provider(), MAX_ID);
        fits("ModelConfig.scopeId", config.scopeId(), MAX_ID);
        checkLimits("ModelConfig " + config.id(), config.budgets(), config.rateLimit());
    }

    private static void checkLimits(String holder, List<Budget> budgets, RateLimit rateLimit) {
        for (Budget budget : budgets) {
            fits(holder + ": Budget.window", budget.window().id(), MAX_WINDOW_ID);
        }
        if (rateLimit != null) {
            fits(holder + ": RateLimit.tokenWindow", windowId(rateLimit.tokenWindow()), MAX_WINDOW_ID);
            fits(holder + ": RateLimit.requestWindow", windowId(rateLimit.requestWindow()), MAX_WINDOW_ID);
        }
    }

    /** Null fits; anything else must have at most {@code max} characters (code points, as the column counts). */
    static void fits(String field, String value, int max) {
        if (value == null) {
            return;
        }
        int length = value.codePointCount(0, value.length());
        if (length > max) {
            String shown = value.substring(0, value.offsetByCodePoints(0, 40));
            throw new IllegalArgumentException(field + ": \"" + shown + "...\" has " + length
                    + " characters; the JDBC store keeps at most " + max);
        }
    }

    private static void deleteLimits(ConfigDao dao, HolderKind kind, String id) {
        dao.deleteBudgets(kind.name(), id);
        dao.deleteRateLimits(kind.name(), id);
    }

    private static WindowSpec window(String id) {
        return id == null ? null : WindowSpec.parseId(id);
    }

    private static String windowId(WindowSpec window) {
        return window == null ? null : window.id();
    }

    /** Epoch seconds with nine decimals: exact for every {@link Instant}, and readable with FROM_UNIXTIME. */
    static BigDecimal toEpochSeconds(Instant instant) {
        return instant == null ? null
                : BigDecimal.valueOf(instant.getEpochSecond()).add(BigDecimal.valueOf(instant.getNano(), 9));
    }

    static Instant fromEpochSeconds(BigDecimal seconds) {
        if (seconds == null) {
            return null;
        }
        BigDecimal whole = seconds.setScale(0, RoundingMode.FLOOR);
        int nanos = seconds.subtract(whole).movePointRight(9).intValueExact();
        return Instant.ofEpochSecond(whole.longValueExact(), nanos);
    }

    /** Whose budgets and rate limit: the entity's kind and id, and for a provider config its provider. */
    private record LimitKey(String holderKind, String holderId, String provider) {
        static LimitKey of(HolderKind kind, String id) {
            return new LimitKey(kind.name(), id, NO_PROVIDER);
        }
    }

    private record ProviderKey(String virtualKeyId, String provider) {
    }

    private record Limits(Map<LimitKey, List<Budget>> budgets, Map<LimitKey, RateLimit> rateLimits) {
        List<Budget> budgets(LimitKey key) {
            return budgets.getOrDefault(key, List.of());
        }

        RateLimit rateLimit(LimitKey key) {
            return rateLimits.get(key);
        }
    }

    /** The rows of some entities, written in an order that satisfies the foreign keys. */
    private static final class Rows {
        final List<CustomerRow> customers = new ArrayList<>();
        final List<TeamRow> teams = new ArrayList<>();
        final List<VirtualKeyRow> virtualKeys = new ArrayList<>();
        final List<ProviderConfigRow> providerConfigs = new ArrayList<>();
        final List<ProviderModelRow> providerModels = new ArrayList<>();
        final List<UserRow> users = new ArrayList<>();
        final List<ModelConfigRow> modelConfigs = new ArrayList<>();
        final List<BudgetRow> budgets = new ArrayList<>();
        final List<RateLimitRow> rateLimits = new ArrayList<>();

        void add(Customer customer) {
            customers.add(new CustomerRow(customer.id(), customer.name()));
            limits(LimitKey.of(HolderKind.CUSTOMER, customer.id()), customer.budgets(), customer.rateLimit());
        }

        void add(Team team) {
            teams.add(new TeamRow(team.id(), team.name(), team.customerId()));
            limits(LimitKey.of(HolderKind.TEAM, team.id()), team.budgets(), team.rateLimit());
        }

        void add(VirtualKey key) {
            virtualKeys.add(new VirtualKeyRow(key.id(), key.name(), key.secretHash(), key.teamId(), key.customerId(),
                    key.active(), toEpochSeconds(key.expiresAt())));
            List<ProviderConfig> configs = key.providerConfigs();
            for (int i = 0; i < configs.size(); i++) {
                ProviderConfig config = configs.get(i);
                providerConfigs.add(new ProviderConfigRow(key.id(), config.provider(), i));
                for (String model : config.allowedModels()) {
                    providerModels.add(new ProviderModelRow(key.id(), config.provider(), ProviderModelRow.ALLOWED, model));
                }
                for (String model : config.blockedModels()) {
                    providerModels.add(new ProviderModelRow(key.id(), config.provider(), ProviderModelRow.BLOCKED, model));
                }
                limits(new LimitKey(HolderKind.PROVIDER_CONFIG.name(), key.id(), config.provider()), config.budgets(),
                        config.rateLimit());
            }
            limits(LimitKey.of(HolderKind.VIRTUAL_KEY, key.id()), key.budgets(), key.rateLimit());
        }

        void add(User user) {
            users.add(new UserRow(user.id()));
            limits(LimitKey.of(HolderKind.USER, user.id()), user.budgets(), user.rateLimit());
        }

        void add(ModelConfig config) {
            modelConfigs.add(new ModelConfigRow(config.id(), config.model(), config.provider(), config.scope().name(),
                    config.scopeId()));
            limits(LimitKey.of(HolderKind.MODEL_CONFIG, config.id()), config.budgets(), config.rateLimit());
        }

        private void limits(LimitKey key, List<Budget> holderBudgets, RateLimit rateLimit) {
            for (int i = 0; i < holderBudgets.size(); i++) {
                Budget budget = holderBudgets.get(i);
                budgets.add(new BudgetRow(key.holderKind(), key.holderId(), key.provider(), i, budget.max().nanos(),
                        budget.window().id(), budget.leased()));
            }
            if (rateLimit != null) {
                rateLimits.add(new RateLimitRow(key.holderKind(), key.holderId(), key.provider(), rateLimit.tokenMax(),
                        windowId(rateLimit.tokenWindow()), rateLimit.requestMax(), windowId(rateLimit.requestWindow()),
                        rateLimit.inFlightMax(), rateLimit.leased()));
            }
        }

        void write(ConfigDao dao) {
            if (!customers.isEmpty()) {
                dao.upsertCustomers(customers);
            }
            if (!teams.isEmpty()) {
                dao.upsertTeams(teams);
            }
            if (!virtualKeys.isEmpty()) {
                dao.upsertVirtualKeys(virtualKeys);
            }
            if (!providerConfigs.isEmpty()) {
                dao.insertProviderConfigs(providerConfigs);
            }
            if (!providerModels.isEmpty()) {
                dao.insertProviderModels(providerModels);
            }
            if (!users.isEmpty()) {
                dao.upsertUsers(users);
            }
            if (!modelConfigs.isEmpty()) {
                dao.upsertModelConfigs(modelConfigs);
            }
            if (!budgets.isEmpty()) {
                dao.insertBudgets(budgets);
            }
            if (!rateLimits.isEmpty()) {
                dao.insertRateLimits(rateLimits);
            }
        }
    }
}
