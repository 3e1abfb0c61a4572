package io.tollgate.jdbc.internal;

import io.tollgate.jdbc.internal.ConfigRows.BudgetRow;
import io.tollgate.jdbc.internal.ConfigRows.CustomerRow;
import io.tollgate.jdbc.internal.ConfigRows.ModelConfigRow;
import io.tollgate.jdbc.internal.ConfigRows.ProviderConfigRow;
import io.tollgate.jdbc.internal.ConfigRows.ProviderModelRow;
import io.tollgate.jdbc.internal.ConfigRows.RateLimitRow;
import io.tollgate.jdbc.internal.ConfigRows.TeamRow;
import io.tollgate.jdbc.internal.ConfigRows.UserRow;
import io.tollgate.jdbc.internal.ConfigRows.VirtualKeyRow;
import org.jdbi.v3.sqlobject.config.RegisterConstructorMapper;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.locator.UseClasspathSqlLocator;
import org.jdbi.v3.sqlobject.statement.SqlBatch;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

import java.util.List;

/**
 * The configuration tables. Each method's SQL is in {@code io/tollgate/jdbc/internal/ConfigDao/<method>.sql}, one-liners
 * too: every statement this module sends is in a resource file, read and reviewed in one place with SQL tooling,
 * and the Java holds none.
 * Writes assume the caller validated the whole configuration and holds the version row lock.
 *
 * <p>Attach it to a handle for one transaction; not to be shared between threads.
 */
@UseClasspathSqlLocator
@RegisterConstructorMapper(CustomerRow.class)
@RegisterConstructorMapper(TeamRow.class)
@RegisterConstructorMapper(VirtualKeyRow.class)
@RegisterConstructorMapper(ProviderConfigRow.class)
@RegisterConstructorMapper(ProviderModelRow.class)
@RegisterConstructorMapper(UserRow.class)
@RegisterConstructorMapper(ModelConfigRow.class)
@RegisterConstructorMapper(BudgetRow.class)
@RegisterConstructorMapper(RateLimitRow.class)
public interface ConfigDao {

    /** Locks the version row until the transaction ends: writers of the configuration go one at a time. */
    @SqlQuery
    long lockVersion();

    @SqlQuery
    long readVersion();

    @SqlUpdate
    void updateVersion(long version, long updatedAt);

    @SqlQuery
    List<CustomerRow> selectCustomers();

    @SqlQuery
    List<TeamRow> selectTeams();

    @SqlQuery
    List<VirtualKeyRow> selectVirtualKeys();

    @SqlQuery
    List<ProviderConfigRow> selectProviderConfigs();

    @SqlQuery
    List<ProviderModelRow> selectProviderModels();

    @SqlQuery
    List<UserRow> selectUsers();

    @SqlQuery
    List<ModelConfigRow> selectModelConfigs();

    @SqlQuery
    List<BudgetRow> selectBudgets();

    @SqlQuery
    List<RateLimitRow> selectRateLimits();

    @SqlBatch
    void upsertCustomers(@BindMethods List<CustomerRow> rows);

    @SqlBatch
    void upsertTeams(@BindMethods List<TeamRow> rows);

    @SqlBatch
    void upsertVirtualKeys(@BindMethods List<VirtualKeyRow> rows);

    @SqlBatch
    void upsertUsers(@BindMethods List<UserRow> rows);

    @SqlBatch
    void upsertModelConfigs(@BindMethods List<ModelConfigRow> rows);

    @SqlBatch
    void insertProviderConfigs(@BindMethods List<ProviderConfigRow> rows);

    @SqlBatch
    void insertProviderModels(@BindMethods List<ProviderModelRow> rows);

    @SqlBatch
    void insertBudgets(@BindMethods List<BudgetRow> rows);

    @SqlBatch
    void insertRateLimits(@BindMethods List<RateLimitRow> rows);

    @SqlUpdate
    void deleteCustomer(String id);

    @SqlUpdate
    void deleteTeam(String id);

    /** Deletes the key and, by cascade, its provider configs and their model rules. */
    @SqlUpdate
    void deleteVirtualKey(String id);

    /** Deletes the key's provider configs and, by cascade, their model rules. */
    @SqlUpdate
    void deleteProviderConfigs(String virtualKeyId);

    @SqlUpdate
    void deleteUser(String id);

    @SqlUpdate
    void deleteModelConfig(String id);

    /** Every budget of the holder; for {@code PROVIDER_CONFIG}, those of every provider config of the key. */
    @SqlUpdate
    void deleteBudgets(String holderKind, String holderId);

    @SqlUpdate
    void deleteRateLimits(String holderKind, String holderId);

    /** Empties every configuration table, children first; the version row and usage snapshots stay. */
    @SqlUpdate
    void deleteAllModelConfigs();

    @SqlUpdate
    void deleteAllBudgets();

    @SqlUpdate
    void deleteAllRateLimits();

    @SqlUpdate
    void deleteAllVirtualKeys();

    @SqlUpdate
    void deleteAllUsers();

    @SqlUpdate
    void deleteAllTeams();

    @SqlUpdate
    void deleteAllCustomers();
}
