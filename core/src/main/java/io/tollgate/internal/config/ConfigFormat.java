package io.tollgate.internal.config;

import io.tollgate.Budget;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.Team;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.WindowSpec;
import io.tollgate.internal.Checks;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.annotation.JsonDeserialize;
import tools.jackson.databind.deser.std.StdDeserializer;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.std.StdSerializer;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The configuration format: one record per kind of object in the file, whose components are the object's fields in
 * the order they are written. Jackson binds these records; {@link #module()} maps each model type to its record, so
 * a component may be a model type ({@code List<Budget>}) and each record reads only its own object. Every record
 * converts to its model type ({@code toModel()}) and back ({@code of(...)}), leaving out fields that hold their
 * default.
 *
 * <p>A new field of the format is a component of its record here and a line in that record's {@code toModel()} and
 * {@code of(...)}: reading, writing and the list of known fields in messages follow from the component.
 *
 * <p>Absent and {@code null} fields read as Java {@code null} (except {@link Name}); the model's constructors then
 * apply their defaults, and their messages (such as {@code Team.customerId: "" must not be empty}) follow the path of
 * the object.
 */
final class ConfigFormat {

    private ConfigFormat() {
    }

    /** Maps every model type of the configuration to its record, both ways. */
    static SimpleModule module() {
        SimpleModule module = new SimpleModule("tollgate-config-format");
        map(module, GovernanceConfig.class, ConfigDoc.class, ConfigDoc::toModel, ConfigDoc::of);
        map(module, Customer.class, CustomerDoc.class, CustomerDoc::toModel, CustomerDoc::of);
        map(module, Team.class, TeamDoc.class, TeamDoc::toModel, TeamDoc::of);
        map(module, VirtualKey.class, VirtualKeyDoc.class, VirtualKeyDoc::toModel, VirtualKeyDoc::of);
        map(module, ProviderConfig.class, ProviderConfigDoc.class, ProviderConfigDoc::toModel, ProviderConfigDoc::of);
        map(module, User.class, UserDoc.class, UserDoc::toModel, UserDoc::of);
        map(module, ModelConfig.class, ModelConfigDoc.class, ModelConfigDoc::toModel, ModelConfigDoc::of);
        map(module, Budget.class, BudgetDoc.class, BudgetDoc::toModel, BudgetDoc::of);
        map(module, RateLimit.class, RateLimitDoc.class, RateLimitDoc::toModel, RateLimitDoc::of);
        return module;
    }

    /** The whole file. */
    record ConfigDoc(List<Customer> customers, List<Team> teams, List<VirtualKey> virtualKeys, List<User> users,
                     List<ModelConfig> modelConfigs) {

        GovernanceConfig toModel() {
            // its messages start with the path ("teams[0].customerId: ..."), and the lists keep the file's order
            return new GovernanceConfig(customers, teams, virtualKeys, users, modelConfigs);
        }

        static ConfigDoc of(GovernanceConfig config) {
            return new ConfigDoc(nonEmpty(config.customers()), nonEmpty(config.teams()),
                    nonEmpty(config.virtualKeys()), nonEmpty(config.users()), nonEmpty(config.modelConfigs()));
        }
    }

    record CustomerDoc(String id, Name name, List<Budget> budgets, RateLimit rateLimit) {

        Customer toModel() {
            return new Customer(id, Name.read(name, id), budgets, rateLimit);
        }

        static CustomerDoc of(Customer customer) {
            return new CustomerDoc(customer.id(), Name.write(customer.id(), customer.name()),
                    nonEmpty(customer.budgets()), customer.rateLimit());
        }
    }

    record TeamDoc(String id, Name name, String customerId, List<Budget> budgets, RateLimit rateLimit) {

        Team toModel() {
            return new Team(id, Name.read(name, id), customerId, budgets, rateLimit);
        }

        static TeamDoc of(Team team) {
            return new TeamDoc(team.id(), Name.write(team.id(), team.name()), team.customerId(),
                    nonEmpty(team.budgets()), team.rateLimit());
        }
    }

    /**
     * A virtual key names its secret by {@code secretHash}, or gives {@code secret} to be hashed at load; neither
     * value is ever shown in a message, not even when it has the wrong type.
     */
    record VirtualKeyDoc(String id, String name,
                         @JsonDeserialize(using = ConfigValues.HiddenText.class) String secretHash,
                         @JsonDeserialize(using = ConfigValues.HiddenText.class) String secret,
                         String teamId, String customerId, Boolean active, Instant expiresAt,
                         List<ProviderConfig> providerConfigs, List<Budget> budgets, RateLimit rateLimit) {

        VirtualKey toModel() {
            if (secret != null && secret.isBlank()) {
                throw new InvalidValue("secret", "must not be empty");
            }
            if (secret != null && !Checks.isWellFormed(secret)) {
                throw new InvalidValue("secret", Checks.NOT_WELL_FORMED_SECRET);
            }
            if (secret != null && secretHash != null) {
                throw new InvalidValue("give either \"secret\" or \"secretHash\", not both");
            }
            String hash = secret != null ? VirtualKey.hashSecret(secret) : secretHash;
            return new VirtualKey(id, name, hash, teamId, customerId, active == null || active, expiresAt,
                    providerConfigs, budgets, rateLimit);
        }

        static VirtualKeyDoc of(VirtualKey key) {
            // the name always reads back: absent means the id
            return new VirtualKeyDoc(key.id(), key.name().equals(key.id()) ? null : key.name(), key.secretHash(), null,
                    key.teamId(), key.customerId(), key.active(), key.expiresAt(), nonEmpty(key.providerConfigs()),
                    nonEmpty(key.budgets()), key.rateLimit());
        }
    }

    /** Model lists are sets written as arrays: a name listed twice is a mistake worth reporting. */
    record ProviderConfigDoc(String provider, List<String> allowedModels, List<String> blockedModels,
                             List<Budget> budgets, RateLimit rateLimit) {

        ProviderConfig toModel() {
            return new ProviderConfig(provider, models("allowedModels", allowedModels),
                    models("blockedModels", blockedModels), budgets, rateLimit);
        }

        static ProviderConfigDoc of(ProviderConfig config) {
            // allowedModels always written: an absent list allows no model, which a reader would not guess
            return new ProviderConfigDoc(config.provider(), sorted(config.allowedModels()),
                    config.blockedModels().isEmpty() ? null : sorted(config.blockedModels()),
                    nonEmpty(config.budgets()), config.rateLimit());
        }

        /** Null when absent, so that the record decides the default. */
        private static Set<String> models(String field, List<String> models) {
            if (models == null) {
                return null;
            }
            Set<String> set = new LinkedHashSet<>();
            for (int i = 0; i < models.size(); i++) {
                String model = models.get(i);
                if (model.isBlank()) {
                    throw new InvalidValue(field + "[" + i + "]", Checks.quote(model) + " must not be empty");
                }
                if (!set.add(model)) {
                    throw new InvalidValue(field + "[" + i + "]", Checks.quote(model) + " is listed twice");
                }
            }
            return set;
        }

        /** Sets have no order of their own; sorting keeps the output stable from one write to the next. */
        private static List<String> sorted(Set<String> models) {
            return new ArrayList<>(new TreeSet<>(models));
        }
    }

    record UserDoc(String id, List<Budget> budgets, RateLimit rateLimit) {

        User toModel() {
            return new User(id, budgets, rateLimit);
        }

        static UserDoc of(User user) {
            return new UserDoc(user.id(), nonEmpty(user.budgets()), user.rateLimit());
        }
    }

    record ModelConfigDoc(String id, String model, String provider, ModelConfig.Scope scope, String scopeId,
                          List<Budget> budgets, RateLimit rateLimit) {

        ModelConfig toModel() {
            return new ModelConfig(id, model, provider, scope == null ? ModelConfig.Scope.GLOBAL : scope, scopeId,
                    budgets, rateLimit);
        }

        static ModelConfigDoc of(ModelConfig config) {
            return new ModelConfigDoc(config.id(), config.model(), config.provider(), config.scope(),
                    config.scopeId(), nonEmpty(config.budgets()), config.rateLimit());
        }
    }

    /** A budget's window is given by the budget's own fields; without {@code resetPeriod} it never resets. */
    record BudgetDoc(Money max, String resetPeriod, Boolean calendar, ZoneId zone, Instant anchor, Boolean leased) {

        Budget toModel() {
            if (max == null) {
                throw new InvalidValue("max", "must be set");
            }
            WindowSpec window = new WindowFields(resetPeriod, calendar, zone, anchor).toWindow("");
            return new Budget(max, window == null ? WindowSpec.unbounded() : window, Boolean.TRUE.equals(leased));
        }

        static BudgetDoc of(Budget budget) {
            WindowFields w = budget.window().alignment() == WindowSpec.Alignment.UNBOUNDED
                    ? WindowFields.NONE : WindowFields.of(budget.window());
            return new BudgetDoc(budget.max(), w.resetPeriod(), w.calendar(), w.zone(), w.anchor(),
                    budget.leased() ? Boolean.TRUE : null);
        }
    }

    /**
     * Each maximum has its window in the fields of the same prefix (an in-flight maximum has none); an absent maximum
     * is 0 (no limit).
     */
    record RateLimitDoc(Long tokenMax, String tokenResetPeriod, Boolean tokenCalendar, ZoneId tokenZone,
                        Instant tokenAnchor,
                        Long requestMax, String requestResetPeriod, Boolean requestCalendar, ZoneId requestZone,
                        Instant requestAnchor, Long inFlightMax, Boolean leased) {

        RateLimit toModel() {
            WindowSpec tokenWindow = new WindowFields(tokenResetPeriod, tokenCalendar, tokenZone, tokenAnchor)
                    .toWindow("token");
            WindowSpec requestWindow = new WindowFields(requestResetPeriod, requestCalendar, requestZone,
                    requestAnchor).toWindow("request");
            return new RateLimit(tokenMax == null ? 0 : tokenMax, tokenWindow,
                    requestMax == null ? 0 : requestMax, requestWindow, inFlightMax == null ? 0 : inFlightMax,
                    Boolean.TRUE.equals(leased));
        }

        static RateLimitDoc of(RateLimit limit) {
            WindowFields t = WindowFields.of(limit.tokenWindow());
            WindowFields r = WindowFields.of(limit.requestWindow());
            return new RateLimitDoc(limit.hasTokenLimit() ? limit.tokenMax() : null,
                    t.resetPeriod(), t.calendar(), t.zone(), t.anchor(),
                    limit.hasRequestLimit() ? limit.requestMax() : null,
                    r.resetPeriod(), r.calendar(), r.zone(), r.anchor(),
                    limit.hasInFlightLimit() ? limit.inFlightMax() : null, limit.leased() ? Boolean.TRUE : null);
        }
    }

    /**
     * A customer's or team's name, which must tell "absent" (the name is the id) from {@code null} (no name): absent
     * reads as a Java null, {@code null} as {@link #NONE}.
     */
    record Name(String value) {

        static final Name NONE = new Name(null);

        static String read(Name name, String id) {
            return name == null ? id : name.value();
        }

        /** Null (left out) when the name is the id; {@link #NONE} (written as null) when there is none. */
        static Name write(String id, String name) {
            if (name == null) {
                return NONE;
            }
            return name.equals(id) ? null : new Name(name);
        }
    }

    private static <T> List<T> nonEmpty(List<T> values) {
        return values.isEmpty() ? null : values;
    }

    private static <M, D> void map(SimpleModule module, Class<M> model, Class<D> doc, Function<D, M> toModel,
                                   Function<M, D> toDoc) {
        module.addDeserializer(model, new FromDoc<>(model, doc, toModel));
        module.addSerializer(model, new ToDoc<>(model, toDoc));
    }

    /** Reads a model value by binding its record and converting it. */
    private static final class FromDoc<M, D> extends StdDeserializer<M> {

        private final Class<D> doc;
        private final transient Function<D, M> toModel;

        FromDoc(Class<M> model, Class<D> doc, Function<D, M> toModel) {
            super(model);
            this.doc = doc;
            this.toModel = toModel;
        }

        @Override
        public M deserialize(JsonParser p, DeserializationContext ctxt) {
            ConfigValues.refuseAlias(p);
            if (!p.hasToken(JsonToken.START_OBJECT) && !p.hasToken(JsonToken.PROPERTY_NAME)
                    && !p.hasToken(JsonToken.END_OBJECT)) {
                throw new InvalidValue("expected an object, got " + ConfigValues.describe(p));
            }
            return toModel.apply(ctxt.readValue(p, doc));
        }
    }

    /** Writes a model value as its record. */
    private static final class ToDoc<M, D> extends StdSerializer<M> {

        private final transient Function<M, D> toDoc;

        ToDoc(Class<M> model, Function<M, D> toDoc) {
            super(model);
            this.toDoc = toDoc;
        }

        @Override
        public void serialize(M value, JsonGenerator gen, SerializationContext ctxt) {
            ctxt.writeValue(gen, toDoc.apply(value));
        }
    }
}
