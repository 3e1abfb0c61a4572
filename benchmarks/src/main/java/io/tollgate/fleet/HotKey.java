package io.tollgate.fleet;

import io.tollgate.CheckRequest;
import io.tollgate.ConfigLoader;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.LimitUsage;
import io.tollgate.Metric;
import io.tollgate.RateLimit;

import java.time.Duration;
import java.util.List;

/**
 * The configuration of a hot-key run: one virtual key of a team of a customer, every request on it, the key's request
 * limit the smallest of the three so that it is the one demand presses against. The team allows twice the key's
 * maximum per window and the customer twenty times it per ten windows, as a tenant with one busy key would have;
 * neither is reached, yet both are counted in the same script call (and leased), as in a gateway. A second tenant of
 * the same shape is what the replicas warm up on before the run.
 *
 * <p>Demand is {@value #DEMAND_FACTOR} times the key's maximum: each worker thread sends
 * {@link #ratePerThread(int) its share} at a steady pace. The tool's default, 2,000 requests per 1 s window, asks 4
 * processes of 8 threads for 10,000 checks/s (312.5 per thread), which they send at over 90 % on a 2-core machine
 * that also runs the Redis, once warm; a longer window would give fewer windows to judge in a run of seconds.
 *
 * <p>Immutable and thread-safe.
 *
 * @param max    the hot key's requests per window
 * @param window the length of the rolling windows of the key and the team
 */
record HotKey(long max, Duration window) {

    static final String KEY_ID = "vk-hot";
    static final String TEAM_ID = "team-hot";
    static final String CUSTOMER_ID = "customer-hot";
    static final String WARM_UP_KEY_ID = "vk-warm-up";
    static final String WARM_UP_TEAM_ID = "team-warm-up";
    static final String WARM_UP_CUSTOMER_ID = "customer-warm-up";
    static final String PROVIDER = "openai";
    static final String MODEL = "gpt-4o-mini";
    static final int DEMAND_FACTOR = 5;
    static final Holder HOT_HOLDER = Holder.virtualKey(KEY_ID);

    HotKey {
        if (max < 1) {
            throw new IllegalArgumentException("--max: " + max + " must be at least 1");
        }
        if (window.toMillis() < 100) {
            // the kill comes a tenth of the way into a window, and the reads 10 ms or more before its end
            throw new IllegalArgumentException("--window: " + FleetMain.format(window) + " must be at least 100ms");
        }
    }

    long windowMillis() {
        return window.toMillis();
    }

    /** Checks per second per worker thread so that {@code workers} threads in all send 5 times the maximum. */
    double ratePerThread(int workers) {
        return DEMAND_FACTOR * max * 1_000.0 / windowMillis() / workers;
    }

    /** The hot tenant, and a warm-up tenant of the same shape whose counters the run never touches. */
    GovernanceConfig config() {
        String period = windowMillis() + "ms";
        String tenant = """
                "customers": [ %s, %s ],
                "teams": [ %s, %s ],
                "virtualKeys": [ %s, %s ]
                """.formatted(customer(CUSTOMER_ID), customer(WARM_UP_CUSTOMER_ID), team(TEAM_ID, CUSTOMER_ID, period),
                team(WARM_UP_TEAM_ID, WARM_UP_CUSTOMER_ID, period), key(KEY_ID, TEAM_ID, period),
                key(WARM_UP_KEY_ID, WARM_UP_TEAM_ID, period));
        return ConfigLoader.parse("{" + tenant + "}");
    }

    private String customer(String id) {
        return """
                { "id": "%s", "rateLimit": { "requestMax": %d, "requestResetPeriod": "%dms" } }"""
                .formatted(id, 20 * max, 10 * windowMillis());
    }

    private String team(String id, String customerId, String period) {
        return """
                { "id": "%s", "customerId": "%s", "rateLimit": { "requestMax": %d, "requestResetPeriod": "%s" } }"""
                .formatted(id, customerId, 2 * max, period);
    }

    private String key(String id, String teamId, String period) {
        return """
                { "id": "%s", "secret": "%s", "teamId": "%s",
                  "providerConfigs": [ { "provider": "%s", "allowedModels": [ "%s" ] } ],
                  "rateLimit": { "requestMax": %d, "requestResetPeriod": "%s" } }"""
                .formatted(id, FleetConfig.secretOf(id), teamId, PROVIDER, MODEL, max, period);
    }

    /** The check every worker sends: no estimate, as most requests of a gateway carry none. */
    static CheckRequest request() {
        return request(KEY_ID);
    }

    /** The same check of the warm-up tenant. */
    static CheckRequest warmUpRequest() {
        return request(WARM_UP_KEY_ID);
    }

    private static CheckRequest request(String keyId) {
        return CheckRequest.builder().virtualKey(FleetConfig.secretOf(keyId)).provider(PROVIDER).model(MODEL).build();
    }

    /** The hot limit as {@code config} resolves it. */
    static Limit hotLimit(GovernanceConfig config) {
        RateLimit rateLimit = config.virtualKey(KEY_ID).orElseThrow().rateLimit();
        return new Limit(HOT_HOLDER, Metric.REQUESTS, rateLimit.requestMax(), rateLimit.requestWindow());
    }

    /** The hot limit's usage among a decision's limits, or {@code null} when the decision has none. */
    static LimitUsage hotUsage(List<LimitUsage> limits) {
        for (LimitUsage usage : limits) {
            if (usage.limit().metric() == Metric.REQUESTS && usage.limit().holder().equals(HOT_HOLDER)) {
                return usage;
            }
        }
        return null;
    }
}
