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
 * neither is reached, yet both are counted in the same script call (and leased), as in a gateway.
 *
 * <p>Demand is {@value #DEMAND_FACTOR} times the key's maximum: each worker thread sends
 * {@link #ratePerThread(int) its share} at a steady pace.
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

    GovernanceConfig config() {
        String period = windowMillis() + "ms";
        return ConfigLoader.parse("""
                {
                  "customers": [
                    { "id": "%s", "rateLimit": { "requestMax": %d, "requestResetPeriod": "%dms" } }
                  ],
                  "teams": [
                    { "id": "%s", "customerId": "%s",
                      "rateLimit": { "requestMax": %d, "requestResetPeriod": "%s" } }
                  ],
                  "virtualKeys": [
                    { "id": "%s", "secret": "%s", "teamId": "%s",
                      "providerConfigs": [ { "provider": "%s", "allowedModels": [ "%s" ] } ],
                      "rateLimit": { "requestMax": %d, "requestResetPeriod": "%s" } }
                  ]
                }
                """.formatted(CUSTOMER_ID, 20 * max, 10 * windowMillis(), TEAM_ID, CUSTOMER_ID, 2 * max, period,
                KEY_ID, FleetConfig.secretOf(KEY_ID), TEAM_ID, PROVIDER, MODEL, max, period));
    }

    /** The check every worker sends: no estimate, as most requests of a gateway carry none. */
    static CheckRequest request() {
        return CheckRequest.builder().virtualKey(FleetConfig.secretOf(KEY_ID)).provider(PROVIDER).model(MODEL)
                .build();
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
