package io.tollgate.fleet;

import io.tollgate.ConfigLoader;
import io.tollgate.GovernanceConfig;
import io.tollgate.VirtualKey;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The configuration a fleet run enforces: a JSON file as {@link ConfigLoader} reads it, or the built-in example with
 * the traffic weights of its keys ({@value #EXAMPLE_TRAFFIC}). A file's keys get no weights: the workload derives
 * them from the order of the keys (see {@link Workload}).
 *
 * <p>A configuration file holds secret hashes, not secrets, so the fleet gives every virtual key a secret of its own
 * ({@link #secretOf(String)}) and swaps in its hash. Counters are keyed by virtual key id, never by secret, so the
 * limits enforced are exactly those of the file.
 *
 * <p>Immutable and thread-safe.
 */
final class FleetConfig {

    static final String EXAMPLE = "example-config.json";
    static final String EXAMPLE_TRAFFIC = "example-traffic.properties";

    private final GovernanceConfig config;
    private final String source;
    private final Map<String, Double> keyWeights;

    private FleetConfig(GovernanceConfig config, String source, Map<String, Double> keyWeights) {
        this.config = config;
        this.source = source;
        this.keyWeights = keyWeights;
    }

    /** The file's configuration, or the built-in example when {@code file} is {@code null}. */
    static FleetConfig load(Path file) {
        if (file == null) {
            GovernanceConfig example = withFleetSecrets(ConfigLoader.parse(exampleJson()));
            return new FleetConfig(example, "built-in example", exampleWeights(example));
        }
        return new FleetConfig(withFleetSecrets(ConfigLoader.load(file)), file.toString(), Map.of());
    }

    /** The built-in example hierarchy as JSON. */
    static String exampleJson() {
        return new String(resource(EXAMPLE), StandardCharsets.UTF_8);
    }

    private static Map<String, Double> exampleWeights(GovernanceConfig example) {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(new String(resource(EXAMPLE_TRAFFIC), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Double> weights = new LinkedHashMap<>();
        for (String id : properties.stringPropertyNames()) {
            if (example.virtualKey(id).isEmpty()) {
                throw new IllegalStateException(EXAMPLE_TRAFFIC + ": " + id + " is not a virtual key of " + EXAMPLE);
            }
            weights.put(id, Double.parseDouble(properties.getProperty(id).trim()));
        }
        return Map.copyOf(weights);
    }

    private static byte[] resource(String name) {
        try (InputStream in = FleetConfig.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the fleet jar");
            }
            return in.readAllBytes();
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

    /** Relative traffic per virtual key id; empty when the workload derives the weights itself. */
    Map<String, Double> keyWeights() {
        return keyWeights;
    }
}
