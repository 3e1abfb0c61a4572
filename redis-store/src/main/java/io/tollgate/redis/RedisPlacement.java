package io.tollgate.redis;

import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.redis.internal.Placements;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * On Redis Cluster, which holders' counters share a hash slot: a holder's counters live in the slot group of its
 * <em>anchor</em>, so the limits of one request whose holders share an anchor are checked and reserved by one atomic
 * script call. Standalone Redis ignores the placement (every key shares one slot there).
 *
 * <p>Two placements are built in:
 * <ul>
 *   <li>{@link #perHolder()} (the default): every holder anchors itself, except a virtual key's provider config,
 *       which lives with its key. Needs nothing but the holder, so it never changes.</li>
 *   <li>{@link #byTenant(Supplier)}: the tenant root (the customer of the key or of its team, else the team, else
 *       the key) anchors the key, its provider configs, its team and its customer; a user anchors itself; a model
 *       config scoped to a key lives with that key's tenant, one scoped to a user with the user, a global one on its
 *       own. A request of one tenant then touches one slot group for its tenant levels, one for its user and one per
 *       global model config.</li>
 * </ul>
 *
 * <p>A placement decides key names: every replica that shares a Redis Cluster must use the same placement and, for
 * {@link #byTenant}, the same configuration. When a holder's anchor changes (a team moved to another customer), its
 * counters of the current windows start again from what the new slot group holds. {@link #version()} tells the
 * store when anchors may have changed, so it drops the key names it cached.
 *
 * <p>Implementations must be thread-safe and fast: the store calls {@link #version()} on every call and
 * {@link #anchor(Holder)} once per holder and version.
 */
@FunctionalInterface
public interface RedisPlacement {

    /** The holder whose slot group holds {@code holder}'s counters; {@code holder} itself to stand alone. */
    Holder anchor(Holder holder);

    /**
     * A value that changes whenever {@link #anchor} may answer differently (such as the configuration it reads);
     * compared by identity. A constant by default.
     */
    default Object version() {
        return this;
    }

    /** Each holder in a slot group of its own, except a provider config, which goes with its virtual key. */
    static RedisPlacement perHolder() {
        return Placements.PER_HOLDER;
    }

    /**
     * Holders of one tenant together, as the class documentation describes, read from the configuration that
     * {@code config} supplies (the same supplier the core's resolver reads). Holders the configuration does not
     * know anchor themselves, as with {@link #perHolder()}.
     */
    static RedisPlacement byTenant(Supplier<GovernanceConfig> config) {
        return new Placements.ByTenant(Objects.requireNonNull(config, "config"));
    }
}
