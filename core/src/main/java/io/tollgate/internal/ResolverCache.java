package io.tollgate.internal;

import io.tollgate.GovernanceConfig;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * Follows a configuration source: a new {@link LimitResolver} (and so an empty resolution cache) whenever the source
 * hands out a different configuration instance.
 *
 * <p>Thread-safe.
 */
public final class ResolverCache {

    private final Supplier<GovernanceConfig> source;
    private volatile LimitResolver current;

    public ResolverCache(Supplier<GovernanceConfig> source) {
        this.source = Objects.requireNonNull(source, "config source");
        this.current = new LimitResolver(Objects.requireNonNull(source.get(), "config source returned null"));
    }

    public LimitResolver current() {
        GovernanceConfig config = source.get();
        LimitResolver resolver = current;
        if (resolver.config() != config) {
            resolver = new LimitResolver(Objects.requireNonNull(config, "config source returned null"));
            current = resolver;
        }
        return resolver;
    }
}
