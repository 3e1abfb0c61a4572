package io.tollgate.spring;

import io.tollgate.HolderKind;
import io.tollgate.Money;
import io.tollgate.resilience.FailurePolicy;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Tollgate's settings under {@code tollgate.*}. Every value is validated when the application starts; an error names
 * the property and the value.
 *
 * <p>Not thread-safe: bound once at start-up, then only read.
 */
@ConfigurationProperties("tollgate")
public class TollgateProperties implements Validator {

    /** Where the counters live: in this process only, or in Redis, shared by every replica. */
    private StoreType store = StoreType.MEMORY;

    private final Config config = new Config();
    private final Redis redis = new Redis();
    private final Resilience resilience = new Resilience();
    private final Flush flush = new Flush();
    private final Filter filter = new Filter();
    private final Shadow shadow = new Shadow();
    private final Headers headers = new Headers();

    /**
     * Holder kinds whose ids become a {@code holder_id} tag of the metrics (such as {@code team}); none by default,
     * since ids can be many.
     */
    private List<HolderKind> metricsHolderIds = new ArrayList<>();

    /** How long a check's held estimates and in-flight places last unless the request's charge settles them. */
    private Duration leaseDuration = Duration.ofMinutes(5);

    /** The share of a limit's maximum at which a replica reports, once per window, that a counter is near it. */
    private double nearLimitRatio = 0.8;

    /** Prices per provider and model, per million tokens, that turn an upstream's token usage into cost. */
    private List<Price> prices = new ArrayList<>();

    public StoreType getStore() {
        return store;
    }

    public void setStore(StoreType store) {
        this.store = store;
    }

    public Config getConfig() {
        return config;
    }

    public Redis getRedis() {
        return redis;
    }

    public Resilience getResilience() {
        return resilience;
    }

    public Flush getFlush() {
        return flush;
    }

    public Filter getFilter() {
        return filter;
    }

    public Shadow getShadow() {
        return shadow;
    }

    public Headers getHeaders() {
        return headers;
    }

    public List<HolderKind> getMetricsHolderIds() {
        return metricsHolderIds;
    }

    public void setMetricsHolderIds(List<HolderKind> metricsHolderIds) {
        this.metricsHolderIds = metricsHolderIds;
    }

    public Duration getLeaseDuration() {
        return leaseDuration;
    }

    public void setLeaseDuration(Duration leaseDuration) {
        this.leaseDuration = leaseDuration;
    }

    public double getNearLimitRatio() {
        return nearLimitRatio;
    }

    public void setNearLimitRatio(double nearLimitRatio) {
        this.nearLimitRatio = nearLimitRatio;
    }

    public List<Price> getPrices() {
        return prices;
    }

    public void setPrices(List<Price> prices) {
        this.prices = prices;
    }

    @Override
    public boolean supports(Class<?> type) {
        return TollgateProperties.class.isAssignableFrom(type);
    }

    /** Refuses, at start-up, every value the stores and filters would refuse, naming its property. */
    @Override
    public void validate(Object target, Errors errors) {
        TollgateProperties properties = (TollgateProperties) target;
        Config config = properties.config;
        positive(errors, "config.pollInterval", config.pollInterval);
        if (config.source == ConfigSourceType.INLINE && blank(config.inline)) {
            errors.rejectValue("config.inline", "required", "must be set when config.source is inline");
        }
        if (config.source == ConfigSourceType.FILE && blank(config.file)) {
            errors.rejectValue("config.file", "required", "must be set when config.source is file");
        }
        Redis redis = properties.redis;
        if (blank(redis.keyPrefix)) {
            errors.rejectValue("redis.keyPrefix", "blank", "must not be blank");
        }
        positive(errors, "redis.commandTimeout", redis.commandTimeout);
        positive(errors, "leaseDuration", properties.leaseDuration);
        try {
            redis.leasedAdmission.toOptions();
        } catch (IllegalArgumentException e) {
            errors.rejectValue("redis.leasedAdmission", "invalid", e.getMessage());
        }
        if (redis.denialRecheck == null || redis.denialRecheck.isNegative()) {
            errors.rejectValue("redis.denialRecheck", "negative", "must not be negative");
        }
        if (properties.resilience.expectedReplicas < 1) {
            errors.rejectValue("resilience.expectedReplicas", "range", "must be at least 1");
        }
        if (blank(properties.resilience.circuitBreakerName)) {
            errors.rejectValue("resilience.circuitBreakerName", "blank", "must not be blank");
        }
        positive(errors, "flush.interval", properties.flush.interval);
        Filter filter = properties.filter;
        for (String header : new String[] {"userHeader", "providerHeader", "modelHeader", "requestIdHeader"}) {
            if (blank((String) errors.getFieldValue("filter." + header))) {
                errors.rejectValue("filter." + header, "blank", "must not be blank");
            }
        }
        if (filter.maxBodySize == null || filter.maxBodySize.toBytes() <= 0) {
            errors.rejectValue("filter.maxBodySize", "range", "must be positive");
        }
        if (filter.maxAnswerSize == null || filter.maxAnswerSize.toBytes() <= 0) {
            errors.rejectValue("filter.maxAnswerSize", "range", "must be positive");
        }
        if (!(properties.nearLimitRatio > 0 && properties.nearLimitRatio <= 1)) {
            errors.rejectValue("nearLimitRatio", "range", "must be above 0 and at most 1");
        }
        for (int i = 0; i < properties.shadow.holders.size(); i++) {
            try {
                ShadowedLimits.parse(properties.shadow.holders.get(i));
            } catch (IllegalArgumentException e) {
                errors.rejectValue("shadow.holders[" + i + "]", "format", e.getMessage());
            }
        }
        for (int i = 0; i < properties.prices.size(); i++) {
            Price price = properties.prices.get(i);
            if (blank(price.provider)) {
                errors.rejectValue("prices[" + i + "].provider", "blank", "must not be blank");
            }
            dollars(errors, "prices[" + i + "].input", price.input);
            dollars(errors, "prices[" + i + "].output", price.output);
        }
    }

    private static void positive(Errors errors, String field, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            errors.rejectValue(field, "range", "must be positive");
        }
    }

    private static void dollars(Errors errors, String field, String value) {
        try {
            if (Money.parse(value).isNegative()) {
                errors.rejectValue(field, "range", "must not be negative");
            }
        } catch (RuntimeException e) {
            errors.rejectValue(field, "format", "is not an amount of dollars such as 2.50: " + e.getMessage());
        }
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    /** Where the counters live. */
    public enum StoreType {
        /** In this process: one replica, or tests. */
        MEMORY,
        /** In Redis (standalone or Cluster), shared by every replica. */
        REDIS
    }

    /** Where the limits come from. */
    public enum ConfigSourceType {
        /** {@code inline} when set, else {@code file} when set, else no limits (every virtual key unknown). */
        AUTO,
        /** The YAML or JSON text of {@code tollgate.config.inline}. */
        INLINE,
        /** The YAML or JSON file {@code tollgate.config.file}, read again when it changes. */
        FILE,
        /** MariaDB, through the application's {@code DataSource} ({@code tollgate-jdbc-store} on the class path). */
        JDBC
    }

    /** The limits: customers, teams, virtual keys, users and model configs, with their budgets and rate limits. */
    public static class Config {

        /** Where the limits come from. */
        private ConfigSourceType source = ConfigSourceType.AUTO;

        /** The configuration as YAML or JSON text (the same fields as a configuration file). */
        private String inline;

        /** A YAML ({@code .yaml}, {@code .yml}) or JSON file with the configuration, read again when it changes. */
        private String file;

        /** How often the file or the database is polled for a change. */
        private Duration pollInterval = Duration.ofSeconds(1);

        /** With {@code source: jdbc}, whether Tollgate's tables are created and migrated at start. */
        private boolean migrate = true;

        public ConfigSourceType getSource() {
            return source;
        }

        public void setSource(ConfigSourceType source) {
            this.source = source;
        }

        public String getInline() {
            return inline;
        }

        public void setInline(String inline) {
            this.inline = inline;
        }

        public String getFile() {
            return file;
        }

        public void setFile(String file) {
            this.file = file;
        }

        public Duration getPollInterval() {
            return pollInterval;
        }

        public void setPollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
        }

        public boolean isMigrate() {
            return migrate;
        }

        public void setMigrate(boolean migrate) {
            this.migrate = migrate;
        }
    }

    /** The Redis store ({@code tollgate.store: redis}). */
    public static class Redis {

        /**
         * The Redis to connect to, with a client of Tollgate's own. Unset, Tollgate uses the application's Lettuce
         * {@code RedisClient} or {@code RedisClusterClient} bean, else its Spring Data Redis Lettuce connection
         * factory's client, else {@code redis://localhost:6379}.
         */
        private String uri;

        /** Whether {@code uri} is a Redis Cluster seed. */
        private boolean cluster;

        /** The first segment of every key, so that several gateways can share one Redis. */
        private String keyPrefix = "tollgate";

        /** The bound on every Redis call. */
        private Duration commandTimeout = Duration.ofMillis(500);

        /** Whether a replica remembers spent counters and denies without a call to Redis. */
        private boolean cacheDenials = true;

        /** How long a remembered denial of a counter that can go down stands. */
        private Duration denialRecheck = Duration.ofSeconds(1);

        /** Leased admission: which limits a replica admits from slices it holds, and how large they are. */
        private final LeasedAdmission leasedAdmission = new LeasedAdmission();

        public String getUri() {
            return uri;
        }

        public void setUri(String uri) {
            this.uri = uri;
        }

        public boolean isCluster() {
            return cluster;
        }

        public void setCluster(boolean cluster) {
            this.cluster = cluster;
        }

        public String getKeyPrefix() {
            return keyPrefix;
        }

        public void setKeyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
        }

        public Duration getCommandTimeout() {
            return commandTimeout;
        }

        public void setCommandTimeout(Duration commandTimeout) {
            this.commandTimeout = commandTimeout;
        }

        public boolean isCacheDenials() {
            return cacheDenials;
        }

        public void setCacheDenials(boolean cacheDenials) {
            this.cacheDenials = cacheDenials;
        }

        public Duration getDenialRecheck() {
            return denialRecheck;
        }

        public void setDenialRecheck(Duration denialRecheck) {
            this.denialRecheck = denialRecheck;
        }

        public LeasedAdmission getLeasedAdmission() {
            return leasedAdmission;
        }
    }

    /**
     * Leased admission of the Redis store (see {@code io.tollgate.redis.LeasedAdmission}): off for every limit but
     * those marked {@code leased: true} in the configuration, unless {@code all-limits}.
     */
    public static class LeasedAdmission {

        /** Whether every limit is leased, not only those marked {@code leased: true} in the configuration. */
        private boolean allLimits;

        /** The target time between two refills of one counter's slice. */
        private Duration refillInterval = Duration.ofMillis(20);

        /** The largest share of what a counter has left that one slice may take. */
        private double maxShare = 0.05;

        /** A counter unused this long gets its unused slice back. */
        private Duration idleReturn = Duration.ofMillis(500);

        /** These settings as the store's options; throws IllegalArgumentException naming a bad field. */
        public io.tollgate.redis.LeasedAdmission toOptions() {
            return new io.tollgate.redis.LeasedAdmission(allLimits, refillInterval, maxShare, idleReturn);
        }

        public boolean isAllLimits() {
            return allLimits;
        }

        public void setAllLimits(boolean allLimits) {
            this.allLimits = allLimits;
        }

        public Duration getRefillInterval() {
            return refillInterval;
        }

        public void setRefillInterval(Duration refillInterval) {
            this.refillInterval = refillInterval;
        }

        public double getMaxShare() {
            return maxShare;
        }

        public void setMaxShare(double maxShare) {
            this.maxShare = maxShare;
        }

        public Duration getIdleReturn() {
            return idleReturn;
        }

        public void setIdleReturn(Duration idleReturn) {
            this.idleReturn = idleReturn;
        }
    }

    /** What answers while Redis cannot: a circuit breaker and a failure policy in front of the Redis store. */
    public static class Resilience {

        /** Whether the Redis store is wrapped in a resilient store (timeouts, circuit breaker, policy, replay). */
        private boolean enabled = true;

        /** What answers checks while Redis cannot: admit, deny, or admit each replica's share of each limit. */
        private FailurePolicy policy = FailurePolicy.LOCAL;

        /** How many replicas share the limits; the {@code local} policy admits max / replicas on each. */
        private int expectedReplicas = 1;

        /** The name of the circuit breaker in the application's resilience4j registry, when it has one. */
        private String circuitBreakerName = "tollgate";

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public FailurePolicy getPolicy() {
            return policy;
        }

        public void setPolicy(FailurePolicy policy) {
            this.policy = policy;
        }

        public int getExpectedReplicas() {
            return expectedReplicas;
        }

        public void setExpectedReplicas(int expectedReplicas) {
            this.expectedReplicas = expectedReplicas;
        }

        public String getCircuitBreakerName() {
            return circuitBreakerName;
        }

        public void setCircuitBreakerName(String circuitBreakerName) {
            this.circuitBreakerName = circuitBreakerName;
        }
    }

    /**
     * Usage snapshots in MariaDB, through the application's {@code DataSource}, so that a Redis that loses its data
     * is restored ({@code tollgate.store: redis} and {@code tollgate-jdbc-store} on the class path).
     */
    public static class Flush {

        /** Whether counters are snapshotted to the database and restored from it after Redis loses its data. */
        private boolean enabled = true;

        /** How often the counters that changed are written. */
        private Duration interval = Duration.ofSeconds(10);

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Duration getInterval() {
            return interval;
        }

        public void setInterval(Duration interval) {
            this.interval = interval;
        }
    }

    /** How an HTTP request becomes a check, and how its answer is charged. */
    public static class Filter {

        /** Whether the WebFlux or servlet filter checks every request (a gateway filter is set per route instead). */
        private boolean enabled = true;

        /** The filter's order: before routing and security filters that should see only admitted requests. */
        private int order = -100;

        /** The header with the user on whose behalf the request is made. */
        private String userHeader = "x-tollgate-user";

        /** The header that names the upstream provider; else {@code default-provider}. */
        private String providerHeader = "x-tollgate-provider";

        /** The header that names the model; else the request body's {@code model}. */
        private String modelHeader = "x-tollgate-model";

        /** The header with the request's id, which makes its charge count once; else a random one. */
        private String requestIdHeader = "x-request-id";

        /** Whether a request without a virtual key is refused with 401 (else only user and model limits apply). */
        private boolean requireVirtualKey = true;

        /** The provider of requests that name none. */
        private String defaultProvider;

        /** Whether the request body's {@code max_tokens} (or {@code max_completion_tokens}) is reserved at check. */
        private boolean estimateFromMaxTokens = true;

        /** The largest request body read for its model and token estimate; a larger one is refused with 413. */
        private DataSize maxBodySize = DataSize.ofMegabytes(16);

        /** The largest JSON answer read for its usage; a larger one is passed on and charged as a request only. */
        private DataSize maxAnswerSize = DataSize.ofMegabytes(4);

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public int getOrder() {
            return order;
        }

        public void setOrder(int order) {
            this.order = order;
        }

        public String getUserHeader() {
            return userHeader;
        }

        public void setUserHeader(String userHeader) {
            this.userHeader = userHeader;
        }

        public String getProviderHeader() {
            return providerHeader;
        }

        public void setProviderHeader(String providerHeader) {
            this.providerHeader = providerHeader;
        }

        public String getModelHeader() {
            return modelHeader;
        }

        public void setModelHeader(String modelHeader) {
            this.modelHeader = modelHeader;
        }

        public String getRequestIdHeader() {
            return requestIdHeader;
        }

        public void setRequestIdHeader(String requestIdHeader) {
            this.requestIdHeader = requestIdHeader;
        }

        public boolean isRequireVirtualKey() {
            return requireVirtualKey;
        }

        public void setRequireVirtualKey(boolean requireVirtualKey) {
            this.requireVirtualKey = requireVirtualKey;
        }

        public String getDefaultProvider() {
            return defaultProvider;
        }

        public void setDefaultProvider(String defaultProvider) {
            this.defaultProvider = defaultProvider;
        }

        public boolean isEstimateFromMaxTokens() {
            return estimateFromMaxTokens;
        }

        public void setEstimateFromMaxTokens(boolean estimateFromMaxTokens) {
            this.estimateFromMaxTokens = estimateFromMaxTokens;
        }

        public DataSize getMaxBodySize() {
            return maxBodySize;
        }

        public void setMaxBodySize(DataSize maxBodySize) {
            this.maxBodySize = maxBodySize;
        }

        public DataSize getMaxAnswerSize() {
            return maxAnswerSize;
        }

        public void setMaxAnswerSize(DataSize maxAnswerSize) {
            this.maxAnswerSize = maxAnswerSize;
        }
    }

    /** Limits that decide and report but never deny, to roll a new limit out safely. */
    public static class Shadow {

        /** Whether every limit is in shadow. */
        private boolean enabled;

        /**
         * The holders whose limits are in shadow: a kind ({@code team}) or a kind and an id
         * ({@code virtual-key:vk-search}); kinds are customer, team, virtual-key, provider-config, user, model-config.
         */
        private List<String> holders = new ArrayList<>();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public List<String> getHolders() {
            return holders;
        }

        public void setHolders(List<String> holders) {
            this.holders = holders;
        }
    }

    /** The rate-limit header fields sent with every decision; a {@code TollgateHeaders} bean of one's own for others. */
    public static class Headers {

        /** The name of the retry field of a denial; empty for none. */
        private String retryAfter = "Retry-After";

        /** Whether {@code X-RateLimit-Limit}, {@code -Remaining} and {@code -Reset} of the tightest limit are sent. */
        private boolean tightest = true;

        /** Whether {@code x-ratelimit-limit-requests}, {@code ...-tokens} and the rest are sent, as OpenAI sends them. */
        private boolean perMetric;

        /** Whether the IETF fields {@code RateLimit-Policy} and {@code RateLimit} are sent. */
        private boolean ietf;

        public String getRetryAfter() {
            return retryAfter;
        }

        public void setRetryAfter(String retryAfter) {
            this.retryAfter = retryAfter;
        }

        public boolean isTightest() {
            return tightest;
        }

        public void setTightest(boolean tightest) {
            this.tightest = tightest;
        }

        public boolean isPerMetric() {
            return perMetric;
        }

        public void setPerMetric(boolean perMetric) {
            this.perMetric = perMetric;
        }

        public boolean isIetf() {
            return ietf;
        }

        public void setIetf(boolean ietf) {
            this.ietf = ietf;
        }
    }

    /** The price of one provider's model (or of all its models, without {@code model}), in dollars per million tokens. */
    public static class Price {

        /** The provider, as requests name it. */
        private String provider;

        /** The model; none for the provider's price of every model without a price of its own. */
        private String model;

        /** Dollars per million input (prompt) tokens, such as {@code 2.50}. */
        private String input = "0";

        /** Dollars per million output (completion) tokens, such as {@code 10.00}. */
        private String output = "0";

        public String getProvider() {
            return provider;
        }

        public void setProvider(String provider) {
            this.provider = provider;
        }

        public String getModel() {
            return model;
        }

        public void setModel(String model) {
            this.model = model;
        }

        public String getInput() {
            return input;
        }

        public void setInput(String input) {
            this.input = input;
        }

        public String getOutput() {
            return output;
        }

        public void setOutput(String output) {
            this.output = output;
        }
    }
}
