package io.tollgate;

import io.tollgate.internal.config.ConfigMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Reads and writes a whole {@link GovernanceConfig} as JSON or YAML.
 *
 * <h2>Format</h2>
 * One JSON object with five lists, each optional (a missing list is empty): {@code customers}, {@code teams},
 * {@code virtualKeys}, {@code users} and {@code modelConfigs}. A complete example:
 *
 * <pre>{@code
 * {
 *   "customers": [
 *     {
 *       "id": "acme",
 *       "name": "Acme",
 *       "budgets": [ { "max": "100.00", "resetPeriod": "1M", "calendar": true, "zone": "Europe/Paris" } ],
 *       "rateLimit": { "requestMax": 1000, "requestResetPeriod": "1m", "tokenMax": 1000000, "tokenResetPeriod": "1h" }
 *     }
 *   ],
 *   "teams": [
 *     { "id": "search", "customerId": "acme", "budgets": [], "rateLimit": null }
 *   ],
 *   "virtualKeys": [
 *     {
 *       "id": "vk-search-prod",
 *       "name": "search prod",
 *       "secretHash": "a06d9c453d2163fe2d00bfbe187720c55a9d79f2b3cabb7698acc82371f2c511",
 *       "teamId": "search",
 *       "customerId": null,
 *       "active": true,
 *       "expiresAt": "2027-01-01T00:00:00Z",
 *       "providerConfigs": [
 *         { "provider": "openai", "allowedModels": ["*"], "blockedModels": ["gpt-4-32k"], "budgets": [], "rateLimit": null }
 *       ],
 *       "budgets": [
 *         { "max": "5", "resetPeriod": "1d" },
 *         { "max": "50", "resetPeriod": "1M", "calendar": true }
 *       ],
 *       "rateLimit": { "requestMax": 60, "requestResetPeriod": "1m" }
 *     }
 *   ],
 *   "users": [
 *     { "id": "u-42", "budgets": [ { "max": "1.5" } ] }
 *   ],
 *   "modelConfigs": [
 *     {
 *       "id": "gpt4o-global",
 *       "model": "gpt-4o",
 *       "provider": "openai",
 *       "scope": "GLOBAL",
 *       "budgets": [],
 *       "rateLimit": { "tokenMax": 2000000, "tokenResetPeriod": "1m" }
 *     }
 *   ]
 * }
 * }</pre>
 *
 * <p>Fields of each entity are those of its record ({@link Customer}, {@link Team}, {@link VirtualKey},
 * {@link ProviderConfig}, {@link User}, {@link ModelConfig}); an unknown field is an error, so a typo is never
 * silently ignored. Throughout, {@code null} means the same as leaving the field out, a missing list is empty and
 * {@code "rateLimit"} is optional. Besides:
 * <ul>
 *   <li>{@code name} of a customer, team or virtual key defaults to its {@code id} ({@code "name": null} means no name
 *       for a customer or team).</li>
 *   <li>{@code active} of a virtual key defaults to {@code true}; {@code expiresAt} is an ISO-8601 instant.</li>
 *   <li>A provider config's {@code allowedModels} lists the models allowed, {@code "*"} for all; a missing or empty
 *       list allows <em>no</em> model. {@code blockedModels} wins over {@code allowedModels}.</li>
 *   <li>A model config's {@code scope} is {@code GLOBAL} (the default), {@code VIRTUAL_KEY} or {@code USER}; the last
 *       two need a {@code scopeId} naming the virtual key or user. {@code provider} is optional (any provider).</li>
 * </ul>
 *
 * <h2>Budgets</h2>
 * <ul>
 *   <li>{@code max}: dollars, as a string such as {@code "12.50"} (preferred: exact and unambiguous) or a JSON number,
 *       which is read from its text, never through a {@code double}. Rounded half-even to the nanodollar.</li>
 *   <li>{@code resetPeriod}: such as {@code "1d"}, {@code "1M"} or {@code "1h30m"} (see {@link ResetPeriod}). Left out
 *       (or {@code "none"}), the budget never resets: a lifetime or prepaid budget.</li>
 *   <li>{@code calendar: true}: windows aligned to the calendar (periods {@code 1d 1w 1M 1Q 1Y} only) in {@code zone}
 *       (default UTC). Otherwise windows roll every period from {@code anchor}, an ISO-8601 instant (default the
 *       epoch, which every replica agrees on).</li>
 *   <li>{@code leased: true}: marks the budget for leased admission on a store that offers it (see
 *       {@link Limit#leased()}); off when left out.</li>
 * </ul>
 *
 * <h2>Rate limits</h2>
 * {@code tokenMax} and {@code requestMax} are whole numbers, each with its window given by the same fields as a
 * budget's, prefixed: {@code tokenResetPeriod}, {@code tokenCalendar}, {@code tokenZone}, {@code tokenAnchor}, and
 * {@code requestResetPeriod}, {@code requestCalendar}, {@code requestZone}, {@code requestAnchor}. {@code inFlightMax}
 * caps the requests in flight at once (it has no window). Give any of them; a token or request maximum needs its
 * reset period ({@code "none"} for a window that never resets). {@code leased: true} marks the token and request
 * limits for leased admission (see {@link Limit#leased()}); off when left out.
 *
 * <h2>Secrets</h2>
 * A virtual key names its secret by {@code secretHash}: the SHA-256 of the secret as 64 lower-case hex characters
 * ({@link VirtualKey#hashSecret(String)}, or {@code printf %s "$SECRET" | sha256sum}). Files should hold hashes only.
 * For tests and local setups a key may give {@code "secret": "sk-..."} instead; it is hashed at load and the clear
 * value is kept nowhere. Giving both is an error. Neither value appears in any error message.
 *
 * <h2>YAML</h2>
 * {@link #parseYaml(String)}, {@link #readYaml(InputStream)} and {@link #load(Path)} (for names ending in
 * {@code .yaml} or {@code .yml}) read the same objects and fields as YAML: one document, in block or flow style.
 * Plain scalars follow YAML 1.2's JSON schema: only {@code true}, {@code false} and {@code null} are keywords and
 * numbers are written as in JSON, so {@code id: 42} is a number (an error for an id) and {@code active: yes} is a
 * string (an error too), while {@code resetPeriod: 1M} and {@code expiresAt: 2027-01-01T00:00:00Z} are strings as
 * they should be. Write amounts in quotes, as in JSON. Anchors may be set but aliases are refused: a document then
 * means the same as its JSON, and no small file expands into a large one. The example above as YAML:
 *
 * <pre>{@code
 * customers:
 *   - id: acme
 *     name: Acme
 *     budgets:
 *       - { max: "100.00", resetPeriod: 1M, calendar: true, zone: Europe/Paris }
 *     rateLimit: { requestMax: 1000, requestResetPeriod: 1m, tokenMax: 1000000, tokenResetPeriod: 1h }
 * teams:
 *   - { id: search, customerId: acme }
 * virtualKeys:
 *   - id: vk-search-prod
 *     name: search prod
 *     secretHash: a06d9c453d2163fe2d00bfbe187720c55a9d79f2b3cabb7698acc82371f2c511
 *     teamId: search
 *     expiresAt: 2027-01-01T00:00:00Z
 *     providerConfigs:
 *       - { provider: openai, allowedModels: ["*"], blockedModels: [gpt-4-32k] }
 *     budgets:
 *       - { max: "5", resetPeriod: 1d }
 *       - { max: "50", resetPeriod: 1M, calendar: true }
 *     rateLimit: { requestMax: 60, requestResetPeriod: 1m }
 * users:
 *   - id: u-42
 *     budgets: [ { max: "1.5" } ]
 * modelConfigs:
 *   - id: gpt4o-global
 *     model: gpt-4o
 *     provider: openai
 *     rateLimit: { tokenMax: 2000000, tokenResetPeriod: 1m }
 * }</pre>
 *
 * <h2>Limits</h2>
 * A configuration may come from an untrusted place, so reading refuses, within milliseconds and with a
 * {@link ConfigException} naming the place, what no configuration needs: a document over 64 MiB (JSON) or 8 MiB
 * (YAML), a YAML line over 1 MiB, a string over 16 Ki characters, a field name over 256, a number written with more
 * than 100 characters, more than 32 levels of nesting (the format has 7). Numbers out of range are refused before
 * any arithmetic, so {@code "tokenMax": 1e99999999} costs no more than {@code 1e30}; so are amounts and periods
 * given as text with more digits than any valid one has.
 *
 * <h2>Errors</h2>
 * Every problem is a {@link ConfigException} whose message starts with the path of the bad value inside the file,
 * for example {@code virtualKeys[2].budgets[0].resetPeriod: "1x" is not a period (...)},
 * {@code customers[0].budgett: unknown field (...)} or {@code teams[0].customerId: "acme" is not a customer}, the
 * same in JSON and YAML. Malformed JSON or YAML gives the line and column. A configuration is one value: a file with
 * any error gives no configuration at all.
 *
 * <p>{@link #toJson(GovernanceConfig)} and {@link #toYaml(GovernanceConfig)} write the same format, leaving out fields
 * that hold their default, so that {@code parse(toJson(config))} and {@code parseYaml(toYaml(config))} equal
 * {@code config}.
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    /**
     * Reads a configuration file: YAML if its name ends with {@code .yaml} or {@code .yml} (in any case), JSON
     * otherwise. UTF-8, or UTF-16/32 with a byte order mark for JSON.
     *
     * @throws ConfigException if the file cannot be read or is not a valid configuration
     */
    public static GovernanceConfig load(Path file) {
        Objects.requireNonNull(file, "file");
        ConfigMapper mapper = mapperFor(file);
        try (InputStream in = Files.newInputStream(file)) {
            return mapper.read(in);
        } catch (IOException e) {
            throw new ConfigException("cannot read " + file + ": " + e, e);
        }
    }

    /**
     * Reads a configuration from JSON text.
     *
     * @throws ConfigException if the text is not a valid configuration
     */
    public static GovernanceConfig parse(String json) {
        Objects.requireNonNull(json, "json");
        return ConfigMapper.JSON.parse(json);
    }

    /**
     * Reads a configuration from a stream of JSON (UTF-8), up to its end. The stream is not closed.
     *
     * @throws ConfigException if the stream cannot be read or is not a valid configuration
     */
    public static GovernanceConfig read(InputStream in) {
        Objects.requireNonNull(in, "in");
        return ConfigMapper.JSON.read(in);
    }

    /**
     * Reads a configuration from YAML text: one document, with the objects and fields of the JSON format.
     *
     * @throws ConfigException if the text is not a valid configuration
     */
    public static GovernanceConfig parseYaml(String yaml) {
        Objects.requireNonNull(yaml, "yaml");
        return ConfigMapper.YAML.parse(yaml);
    }

    /**
     * Reads a configuration from a stream of YAML (UTF-8), up to its end. The stream is not closed.
     *
     * @throws ConfigException if the stream cannot be read or is not a valid configuration
     */
    public static GovernanceConfig readYaml(InputStream in) {
        Objects.requireNonNull(in, "in");
        return ConfigMapper.YAML.read(in);
    }

    /** The configuration in the format {@link #parse(String)} reads: pretty-printed, ending with a newline. */
    public static String toJson(GovernanceConfig config) {
        return ConfigMapper.JSON.write(config);
    }

    /** The configuration as YAML that {@link #parseYaml(String)} reads back, with the fields {@link #toJson} writes. */
    public static String toYaml(GovernanceConfig config) {
        return ConfigMapper.YAML.write(config);
    }

    private static ConfigMapper mapperFor(Path file) {
        Path name = file.getFileName();
        String lower = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
        return lower.endsWith(".yaml") || lower.endsWith(".yml") ? ConfigMapper.YAML : ConfigMapper.JSON;
    }
}
