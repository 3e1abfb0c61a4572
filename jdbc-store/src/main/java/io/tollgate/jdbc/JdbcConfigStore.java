package io.tollgate.jdbc;

import io.tollgate.ConfigException;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.ModelConfig;
import io.tollgate.StoreException;
import io.tollgate.Team;
import io.tollgate.TollgateException;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.jdbc.internal.ConfigCodec;
import io.tollgate.jdbc.internal.ConfigDao;
import io.tollgate.jdbc.internal.Jdbis;
import io.tollgate.jdbc.internal.SqlErrors;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The governance configuration in MariaDB: customers, teams, virtual keys (with their provider configs), users and
 * model configs, each with its budgets and rate limit, plus a version that every change bumps.
 *
 * <p>Every change is validated as core validates a configuration, before any row is written. In one transaction:
 * <ol>
 *   <li>lock the version row ({@code SELECT ... FOR UPDATE}), so that writers from every replica go one at a time;</li>
 *   <li>read the current configuration;</li>
 *   <li>apply the change in memory and build the new {@link GovernanceConfig}, whose constructor checks unique ids
 *       and secret hashes and that every reference resolves; a delete that would leave a reference dangling is
 *       refused with a message naming the referrer;</li>
 *   <li>write only the rows of the changed entity and bump the version.</li>
 * </ol>
 * A refused change throws {@link ConfigException} and writes nothing; a change that changes nothing writes nothing
 * and returns {@code false}. A database failure throws {@link StoreException}.
 *
 * <p>Gateways read the configuration through {@link #watch()}, which polls the version and reloads on change, so a
 * change made through any replica reaches every replica within about one poll interval.
 *
 * <p>{@link #create(DataSource)} runs {@link TollgateSchema#migrate(DataSource)} first; use
 * {@code builder(dataSource).migrate(false)} where the schema is managed separately.
 *
 * <p>Thread-safe. It holds no connection between calls: each call borrows one from the given {@link DataSource}.
 */
public final class JdbcConfigStore {

    private static final String STORE = "JDBC config store";

    private final Jdbi jdbi;
    private final Clock clock;

    private JdbcConfigStore(Builder builder) {
        this.jdbi = Jdbis.over(builder.dataSource);
        this.clock = builder.clock;
    }

    /** A store over {@code dataSource}, after bringing the schema up to date. */
    public static JdbcConfigStore create(DataSource dataSource) {
        return builder(dataSource).build();
    }

    public static Builder builder(DataSource dataSource) {
        return new Builder(dataSource);
    }

    /** The current configuration, read in one consistent snapshot. */
    public GovernanceConfig load() {
        return loadVersioned().config();
    }

    /** The current configuration version: 0 for a fresh schema, one more after every change. */
    public long version() {
        return readVersion();
    }

    /**
     * A watcher that polls the version every second and reloads the configuration when it changed.
     *
     * @throws StoreException if the first load fails
     */
    public ConfigWatcher watch() {
        return watch(Duration.ofSeconds(1));
    }

    /**
     * A watcher that polls the version every {@code pollInterval} and reloads the configuration when it changed.
     *
     * @throws StoreException if the first load fails
     */
    public ConfigWatcher watch(Duration pollInterval) {
        return new ConfigWatcher(this, pollInterval, clock, null);
    }

    /**
     * A watcher that polls the version every second, and starts from {@code fallback} if the database cannot be
     * reached now (a gateway that must start during a database outage); see {@link #watch(Duration, GovernanceConfig)}.
     */
    public ConfigWatcher watch(GovernanceConfig fallback) {
        return watch(Duration.ofSeconds(1), fallback);
    }

    /**
     * A watcher that polls the version every {@code pollInterval} and reloads the configuration when it changed; if the
     * database cannot be reached now, it starts from {@code fallback} (its {@link ConfigWatcher#version()} is then
     * {@link ConfigWatcher#NOT_LOADED}) and switches to the database's configuration at the first poll that reaches
     * it. For this the store must be built without migration ({@code builder(dataSource).migrate(false)}: a migration
     * needs the database) over a pool that starts while the database is down (HikariCP:
     * {@code initializationFailTimeout} -1).
     *
     * @throws ConfigException if the database answers with a configuration that is not valid
     */
    public ConfigWatcher watch(Duration pollInterval, GovernanceConfig fallback) {
        return new ConfigWatcher(this, pollInterval, clock, Objects.requireNonNull(fallback, "fallback"));
    }

    /** Adds the customer, or replaces the one with its id. */
    public boolean putCustomer(Customer customer) {
        Objects.requireNonNull(customer, "customer");
        return change("putCustomer(\"" + customer.id() + "\")", () -> ConfigCodec.checkFits(customer),
                c -> new GovernanceConfig(put(c.customers(), customer, Customer::id), c.teams(), c.virtualKeys(),
                        c.users(), c.modelConfigs()),
                dao -> ConfigCodec.writeCustomer(dao, customer));
    }

    /** Deletes the customer; refused while a team or virtual key belongs to it. */
    public boolean deleteCustomer(String id) {
        Objects.requireNonNull(id, "id");
        String operation = "deleteCustomer(\"" + id + "\")";
        return change(operation, () -> { }, c -> {
            if (c.customer(id).isEmpty()) {
                return c;
            }
            for (Team team : c.teams()) {
                if (id.equals(team.customerId())) {
                    throw stillUsed("customer", id, "team", team.id());
                }
            }
            for (VirtualKey key : c.virtualKeys()) {
                if (id.equals(key.customerId())) {
                    throw stillUsed("customer", id, "virtual key", key.id());
                }
            }
            return new GovernanceConfig(remove(c.customers(), id, Customer::id), c.teams(), c.virtualKeys(), c.users(),
                    c.modelConfigs());
        }, dao -> ConfigCodec.deleteCustomer(dao, id));
    }

    /** Adds the team, or replaces the one with its id; its customer must exist. */
    public boolean putTeam(Team team) {
        Objects.requireNonNull(team, "team");
        return change("putTeam(\"" + team.id() + "\")", () -> ConfigCodec.checkFits(team),
                c -> new GovernanceConfig(c.customers(), put(c.teams(), team, Team::id), c.virtualKeys(), c.users(),
                        c.modelConfigs()),
                dao -> ConfigCodec.writeTeam(dao, team));
    }

    /** Deletes the team; refused while a virtual key belongs to it. */
    public boolean deleteTeam(String id) {
        Objects.requireNonNull(id, "id");
        return change("deleteTeam(\"" + id + "\")", () -> { }, c -> {
            if (c.team(id).isEmpty()) {
                return c;
            }
            for (VirtualKey key : c.virtualKeys()) {
                if (id.equals(key.teamId())) {
                    throw stillUsed("team", id, "virtual key", key.id());
                }
            }
            return new GovernanceConfig(c.customers(), remove(c.teams(), id, Team::id), c.virtualKeys(), c.users(),
                    c.modelConfigs());
        }, dao -> ConfigCodec.deleteTeam(dao, id));
    }

    /**
     * Adds the virtual key, or replaces the one with its id, provider configs included. Its team and customer must
     * exist, and its secret hash must not be another key's.
     */
    public boolean putVirtualKey(VirtualKey key) {
        Objects.requireNonNull(key, "key");
        return change("putVirtualKey(\"" + key.id() + "\")", () -> ConfigCodec.checkFits(key),
                c -> new GovernanceConfig(c.customers(), c.teams(), put(c.virtualKeys(), key, VirtualKey::id),
                        c.users(), c.modelConfigs()),
                dao -> ConfigCodec.writeVirtualKey(dao, key));
    }

    /** Deletes the virtual key and its provider configs; refused while a model config is scoped to it. */
    public boolean deleteVirtualKey(String id) {
        Objects.requireNonNull(id, "id");
        return change("deleteVirtualKey(\"" + id + "\")", () -> { }, c -> {
            if (c.virtualKey(id).isEmpty()) {
                return c;
            }
            checkNoModelConfig(c, ModelConfig.Scope.VIRTUAL_KEY, "virtual key", id);
            return new GovernanceConfig(c.customers(), c.teams(), remove(c.virtualKeys(), id, VirtualKey::id),
                    c.users(), c.modelConfigs());
        }, dao -> ConfigCodec.deleteVirtualKey(dao, id));
    }

    /** Adds the user, or replaces the one with its id. */
    public boolean putUser(User user) {
        Objects.requireNonNull(user, "user");
        return change("putUser(\"" + user.id() + "\")", () -> ConfigCodec.checkFits(user),
                c -> new GovernanceConfig(c.customers(), c.teams(), c.virtualKeys(), put(c.users(), user, User::id),
                        c.modelConfigs()),
                dao -> ConfigCodec.writeUser(dao, user));
    }

    /** Deletes the user; refused while a model config is scoped to it. */
    public boolean deleteUser(String id) {
        Objects.requireNonNull(id, "id");
        return change("deleteUser(\"" + id + "\")", () -> { }, c -> {
            if (c.user(id).isEmpty()) {
                return c;
            }
            checkNoModelConfig(c, ModelConfig.Scope.USER, "user", id);
            return new GovernanceConfig(c.customers(), c.teams(), c.virtualKeys(), remove(c.users(), id, User::id),
                    c.modelConfigs());
        }, dao -> ConfigCodec.deleteUser(dao, id));
    }

    /** Adds the model config, or replaces the one with its id; the virtual key or user of its scope must exist. */
    public boolean putModelConfig(ModelConfig config) {
        Objects.requireNonNull(config, "config");
        return change("putModelConfig(\"" + config.id() + "\")", () -> ConfigCodec.checkFits(config),
                c -> new GovernanceConfig(c.customers(), c.teams(), c.virtualKeys(), c.users(),
                        put(c.modelConfigs(), config, ModelConfig::id)),
                dao -> ConfigCodec.writeModelConfig(dao, config));
    }

    /** Deletes the model config. */
    public boolean deleteModelConfig(String id) {
        Objects.requireNonNull(id, "id");
        return change("deleteModelConfig(\"" + id + "\")", () -> { },
                c -> new GovernanceConfig(c.customers(), c.teams(), c.virtualKeys(), c.users(),
                        remove(c.modelConfigs(), id, ModelConfig::id)),
                dao -> ConfigCodec.deleteModelConfig(dao, id));
    }

    /**
     * Replaces the whole configuration with {@code config} (already validated by its constructor), in its order.
     * Usage snapshots are kept.
     */
    public boolean replaceAll(GovernanceConfig config) {
        Objects.requireNonNull(config, "config");
        return change("replaceAll(" + config + ")", () -> ConfigCodec.checkFits(config), c -> config,
                dao -> ConfigCodec.replaceAll(dao, config));
    }

    /** The configuration and its version, from one consistent read. */
    VersionedConfig loadVersioned() {
        return inTransaction("load", dao -> {
            long version = dao.readVersion();
            return new VersionedConfig(ConfigCodec.read(dao), version);
        });
    }

    long readVersion() {
        try {
            return jdbi.withExtension(ConfigDao.class, ConfigDao::readVersion);
        } catch (JdbiException e) {
            throw unavailable("version", e);
        }
    }

    private boolean change(String operation, Runnable precheck, UnaryOperator<GovernanceConfig> edit,
                           Write write) {
        try {
            precheck.run();
        } catch (IllegalArgumentException e) {
            throw invalid(operation, e);
        }
        return inTransaction(operation, dao -> {
            long version = dao.lockVersion();
            GovernanceConfig current = ConfigCodec.read(dao);
            GovernanceConfig next;
            try {
                next = edit.apply(current);
            } catch (IllegalArgumentException e) {
                throw invalid(operation, e);
            }
            if (next.equals(current)) {
                return false;
            }
            write.to(dao);
            dao.updateVersion(version + 1, clock.millis());
            return true;
        });
    }

    /**
     * Runs {@code work} in a REPEATABLE READ transaction: every read sees one snapshot, whatever isolation the pool
     * hands out by default. Locking reads ({@code FOR UPDATE}) still see the latest committed row.
     */
    private <T> T inTransaction(String operation, Function<ConfigDao, T> work) {
        try {
            return jdbi.inTransaction(TransactionIsolationLevel.REPEATABLE_READ,
                    handle -> work.apply(handle.attach(ConfigDao.class)));
        } catch (TollgateException e) {
            throw e;
        } catch (JdbiException e) {
            throw unavailable(operation, e);
        }
    }

    private static void checkNoModelConfig(GovernanceConfig config, ModelConfig.Scope scope, String kind, String id) {
        for (ModelConfig modelConfig : config.modelConfigs()) {
            if (modelConfig.scope() == scope && id.equals(modelConfig.scopeId())) {
                throw stillUsed(kind, id, "model config", modelConfig.id());
            }
        }
    }

    private static IllegalArgumentException stillUsed(String kind, String id, String userKind, String userId) {
        return new IllegalArgumentException(userKind + " \"" + userId + "\" still refers to " + kind + " \"" + id
                + "\"; delete it or change it first");
    }

    private static ConfigException invalid(String operation, IllegalArgumentException e) {
        return new ConfigException(operation + " refused, nothing written: " + e.getMessage(), e);
    }

    private static StoreException unavailable(String operation, JdbiException e) {
        return new StoreException(STORE + ": " + operation + " failed: " + SqlErrors.describe(e), e);
    }

    private static <T> List<T> put(List<T> list, T value, Function<T, String> id) {
        List<T> copy = new ArrayList<>(list);
        String key = id.apply(value);
        for (int i = 0; i < copy.size(); i++) {
            if (id.apply(copy.get(i)).equals(key)) {
                copy.set(i, value);
                return copy;
            }
        }
        copy.add(value);
        return copy;
    }

    private static <T> List<T> remove(List<T> list, String key, Function<T, String> id) {
        List<T> copy = new ArrayList<>(list);
        copy.removeIf(value -> id.apply(value).equals(key));
        return copy;
    }

    /** What a change writes, once validated. */
    @FunctionalInterface
    private interface Write {
        void to(ConfigDao dao);
    }

    /** A configuration and the version it was read at. */
    record VersionedConfig(GovernanceConfig config, long version) {
    }

    /** Options of a {@link JdbcConfigStore}; not thread-safe. */
    public static final class Builder {
        private final DataSource dataSource;
        private boolean migrate = true;
        private Clock clock = Clock.systemUTC();

        private Builder(DataSource dataSource) {
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        }

        /** Whether {@link #build()} runs {@link TollgateSchema#migrate(DataSource)}; true by default. */
        public Builder migrate(boolean migrate) {
            this.migrate = migrate;
            return this;
        }

        /** The clock of the version row's {@code updated_at}; the system UTC clock by default. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** @throws StoreException if the migration fails */
        public JdbcConfigStore build() {
            if (migrate) {
                TollgateSchema.migrate(dataSource);
            }
            return new JdbcConfigStore(this);
        }
    }
}
