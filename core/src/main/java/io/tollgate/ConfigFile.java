package io.tollgate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A configuration file that reloads itself when it changes, as the configuration source of
 * {@link BudgetResolver#create(io.tollgate.spi.GovernanceStore, Supplier, java.time.Clock)} and
 * {@link UsageTracker#create(io.tollgate.spi.GovernanceStore, Supplier)}:
 *
 * <pre>{@code
 * ConfigFile config = ConfigFile.watch(Path.of("/etc/gateway/governance.yaml"));
 * BudgetResolver resolver = BudgetResolver.create(store, config, Clock.systemUTC());
 * UsageTracker tracker = UsageTracker.create(store, config);
 * ...
 * config.close(); // at shutdown
 * }</pre>
 *
 * <p>The file is read by {@link ConfigLoader#load(Path)}: YAML for names ending in {@code .yaml} or {@code .yml},
 * JSON otherwise. A daemon thread looks at the file's last-modified time, size and identity (its inode, where the
 * file system has one) every {@linkplain Builder#pollInterval poll interval}, one second by default, and reads the
 * file again when any of them changed; polling, unlike a {@code WatchService}, works the same on every file system,
 * network and container mounts included. Replacing the file by a rename (write a temporary file, then move it over
 * the old one) is the safest way to change it: a reader never sees half a file.
 *
 * <p>{@link #get()} returns the same instance for as long as the configuration does not change, which lets the
 * resolvers keep their caches; a file touched but not changed keeps the instance too. When a new version of the
 * file is not a valid configuration (or cannot be read), the last good configuration stays in force, and the error
 * is logged at WARN once per bad version, naming the file and the problem, never a secret (see
 * {@link ConfigException}); the {@linkplain Listener listener} hears of it too.
 *
 * <p>Thread-safe. {@link #get()} is a volatile read, cheap enough for every request. Checks of the file run one at a
 * time, on the polling thread or in {@link #refresh()}; the listener is called from them, one call at a time.
 */
public final class ConfigFile implements Supplier<GovernanceConfig>, AutoCloseable {

    /** How often the file is looked at unless {@link Builder#pollInterval} says otherwise. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

    private static final Logger LOG = LoggerFactory.getLogger(ConfigFile.class);

    private final Path file;
    private final Listener listener;
    private final ScheduledExecutorService poller;
    private volatile GovernanceConfig current;
    /** The version of the file {@link #current} was read from; guarded by this. */
    private Version loaded;
    /** The last version that could not be used, reported once; guarded by this. */
    private Version rejected;

    private ConfigFile(Builder builder) {
        this.file = builder.file;
        this.listener = builder.listener;
        this.loaded = Version.of(file);
        this.current = ConfigLoader.load(file);
        this.poller = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "tollgate-config-file " + file.getFileName());
            thread.setDaemon(true);
            return thread;
        });
        long interval = builder.pollInterval.toMillis();
        poller.scheduleWithFixedDelay(this::poll, interval, interval, TimeUnit.MILLISECONDS);
    }

    /**
     * Loads {@code file} and watches it at the {@linkplain #DEFAULT_POLL_INTERVAL default interval}.
     *
     * @throws ConfigException if the file cannot be read or is not a valid configuration: with no good
     *         configuration to fall back on, there is nothing to start with
     */
    public static ConfigFile watch(Path file) {
        return builder(file).start();
    }

    /** A builder for a watched {@code file}, for another poll interval or a listener. */
    public static Builder builder(Path file) {
        return new Builder(file);
    }

    /** The configuration in force: the last valid version of the file. */
    @Override
    public GovernanceConfig get() {
        return current;
    }

    /** The file watched. */
    public Path file() {
        return file;
    }

    /**
     * Looks at the file now rather than at the next poll (after a deployment step wrote it, say), and reads it if
     * it changed.
     *
     * @return whether a new configuration is now in force
     */
    public synchronized boolean refresh() {
        Version version = Version.of(file);
        if (version.equals(loaded) || version.equals(rejected)) {
            return false;
        }
        GovernanceConfig next;
        try {
            // read after the version: a change during the read shows as yet another version next time
            next = ConfigLoader.load(file);
        } catch (ConfigException e) {
            rejected = version;
            LOG.warn("Configuration file {} was not reloaded, the previous configuration stays in force: {}",
                    file, e.getMessage());
            tell(() -> listener.rejected(file, e));
            return false;
        }
        loaded = version;
        rejected = null;
        if (next.equals(current)) {
            return false;
        }
        current = next;
        LOG.info("Configuration file {} reloaded: {}", file, next);
        tell(() -> listener.reloaded(file, next));
        return true;
    }

    /** Stops watching the file; {@link #get()} keeps returning the configuration in force. Idempotent. */
    @Override
    public void close() {
        poller.shutdownNow();
    }

    @Override
    public String toString() {
        return "ConfigFile[" + file + ", " + current + "]";
    }

    private void poll() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // an exception would cancel the polling, and with it every later reload
            LOG.error("Configuration file {} could not be checked; checking again at the next poll", file, e);
        }
    }

    private void tell(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("Listener of configuration file {} failed", file, e);
        }
    }

    /**
     * What identifies one version of the file: last-modified time, size and file key, or why they could not be
     * read (so that a file that stays missing is reported once).
     */
    private record Version(FileTime modified, long size, Object fileKey, String unreadable) {

        static Version of(Path file) {
            try {
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                return new Version(attributes.lastModifiedTime(), attributes.size(), attributes.fileKey(), null);
            } catch (IOException e) {
                return new Version(null, -1, null, e.toString());
            }
        }
    }

    /** Hears of reloads, for metrics or to log in one's own way. Called from the thread that checked the file. */
    public interface Listener {

        /** Does nothing. */
        Listener NONE = new Listener() {
        };

        /** A new configuration read from {@code file} is now in force. */
        default void reloaded(Path file, GovernanceConfig config) {
        }

        /**
         * A new version of {@code file} could not be used: the previous configuration stays in force. Called once
         * per bad version. The message names the problem and its path in the file, never a secret.
         */
        default void rejected(Path file, ConfigException error) {
        }
    }

    /** Builds a {@link ConfigFile}; not thread-safe. */
    public static final class Builder {
        private final Path file;
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;
        private Listener listener = Listener.NONE;

        private Builder(Path file) {
            this.file = Objects.requireNonNull(file, "file");
        }

        /** How often the file is looked at; one second unless set. Looking is cheap: a single stat of the file. */
        public Builder pollInterval(Duration pollInterval) {
            Objects.requireNonNull(pollInterval, "pollInterval");
            if (pollInterval.compareTo(Duration.ofMillis(1)) < 0) {
                throw new IllegalArgumentException("ConfigFile.pollInterval: " + pollInterval
                        + " must be at least 1 ms");
            }
            this.pollInterval = pollInterval;
            return this;
        }

        /** Hears of every reload and every rejected version. */
        public Builder listener(Listener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Loads the file and starts watching it.
         *
         * @throws ConfigException if the file cannot be read or is not a valid configuration
         */
        public ConfigFile start() {
            return new ConfigFile(this);
        }
    }
}
