package io.tollgate.fleet;

import io.tollgate.ConfigLoader;
import io.tollgate.GovernanceConfig;
import io.tollgate.VirtualKey;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The configuration a fleet run enforces: a JSON file as {@link ConfigLoader} reads it, or the built-in example.
 *
 * <p>A configuration file holds secret hashes, not secrets, so the fleet gives every virtual key a secret of its own
 * ({@link #secretOf(String)}) and swaps in its hash. Counters are keyed by virtual key id, never by secret, so the
 * limits enforced are exactly those of the file.
 *
 * <p>Immutable and thread-safe.
 */
final class FleetConfig {

    static final String EXAMPLE = "example-config.json";

    private final GovernanceConfig config;
    private final String source;

    private FleetConfig(GovernanceConfig config, String source) {
        this.config = config;
        this.source = source;
    }

    /** The file's configuration, or the built-in example when {@code file} is {@code null}. */
    static FleetConfig load(Path file) {
        if (file == null) {
            return new FleetConfig(withFleetSecrets(ConfigLoader.parse(exampleJson())), "built-in example");
        }
        return new FleetConfig(withFleetSecrets(ConfigLoader.load(file)), file.toString());
    }

    /** The built-in example hierarchy as JSON. */
    static String exampleJson() {
        try (InputStream in = FleetConfig.class.getResourceAsStream(EXAMPLE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + EXAMPLE + " is missing from the fleet jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The secret the fleet presents for the virtual key {@code id}. */
    static String secretOf(String id) {
        return "fleet-secret-" + id;
    }

    private static GovernanceConfig withFleetSecrets(GovernanceConfig config) {
        List<VirtualKey> keys = new ArrayList<>(config.virtualKeys().size());
        for (VirtualKey k : config.virtualKeys()) {
            keys.add(new VirtualKey(k.id(), k.name(), VirtualKey.hashSecret(secretOf(k.id())), k.teamId(),
                    k.customerId(), k.active(), k.expiresAt(), k.providerConfigs(), k.budgets(), k.rateLimit()));
        }
        return new GovernanceConfig(config.customers(), config.teams(), keys, config.users(), config.modelConfigs());
    }

    GovernanceConfig config() {
        return config;
    }

    String source() {
        return source;
    }
}
