package io.tollgate.spring.actuate;

import io.tollgate.TollgateListener.StoreState;
import io.tollgate.resilience.FailurePolicy;
import io.tollgate.resilience.ResilientGovernanceStore;
import io.tollgate.spring.TollgateConfigSource;
import io.tollgate.spring.TollgateStores;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

import java.util.Optional;

/**
 * Tollgate's health: the store, its circuit (closed while Redis answers, open while a failure policy answers), what
 * waits for replay, the snapshot flusher's lag and the configuration in force. Up while decisions are made, by Redis or
 * by a policy that admits: a gateway that degrades gracefully should not be restarted for it. Down only while the
 * circuit is open under the {@code fail-closed} policy, when every checked request is refused.
 *
 * <p>Thread-safe.
 */
public final class TollgateHealthIndicator implements HealthIndicator {

    private final TollgateStores stores;
    private final TollgateConfigSource config;
    private final FailurePolicy policy;

    public TollgateHealthIndicator(TollgateStores stores, TollgateConfigSource config, FailurePolicy policy) {
        this.stores = stores;
        this.config = config;
        this.policy = policy;
    }

    @Override
    public Health health() {
        Optional<ResilientGovernanceStore> resilient = stores.resilient();
        boolean open = resilient.map(store -> store.state() == StoreState.UNAVAILABLE).orElse(false);
        Health.Builder health = open && policy == FailurePolicy.FAIL_CLOSED ? Health.down() : Health.up();
        health.withDetail("store", stores.store().toString())
                .withDetail("config", config.description())
                .withDetail("configVersion", config.version());
        resilient.ifPresent(store -> {
            ResilientGovernanceStore.Stats stats = store.stats();
            health.withDetail("circuit", open ? "open" : "closed")
                    .withDetail("policy", policy.name())
                    .withDetail("buffered", stats.buffered())
                    .withDetail("dropped", stats.dropped());
        });
        stores.flushLagSeconds().ifPresent(lag -> health.withDetail("flushLagSeconds", lag));
        return health.build();
    }
}
