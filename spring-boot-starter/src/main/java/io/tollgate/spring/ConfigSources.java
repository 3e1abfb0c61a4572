package io.tollgate.spring;

import io.tollgate.ConfigFile;
import io.tollgate.ConfigLoader;
import io.tollgate.GovernanceConfig;
import io.tollgate.spring.TollgateProperties.Config;
import io.tollgate.spring.TollgateProperties.ConfigSourceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** Builds the {@link TollgateConfigSource} that {@code tollgate.config.*} asks for. */
final class ConfigSources {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigSources.class);

    private ConfigSources() {
    }

    static TollgateConfigSource from(Config config, DataSource dataSource) {
        ConfigSourceType source = config.getSource();
        if (source == ConfigSourceType.AUTO) {
            source = config.getInline() != null ? ConfigSourceType.INLINE
                    : config.getFile() != null ? ConfigSourceType.FILE : null;
        }
        if (source == null) {
            LOG.warn("Tollgate: no limits configured (tollgate.config.inline, tollgate.config.file or "
                    + "tollgate.config.source: jdbc); every virtual key is unknown, so every checked request is denied");
            return TollgateConfigSource.fixed(GovernanceConfig.empty(), "none");
        }
        return switch (source) {
            case INLINE -> TollgateConfigSource.fixed(inline(config.getInline()), "inline");
            case FILE -> file(Path.of(config.getFile()), config);
            case JDBC -> {
                if (dataSource == null) {
                    throw new IllegalStateException("tollgate.config.source: jdbc needs a DataSource bean");
                }
                yield JdbcSupport.configSource(dataSource, config);
            }
            case AUTO -> throw new AssertionError("resolved above");
        };
    }

    /** YAML is a superset of JSON, so one reader takes both; its errors name the path in the text. */
    private static GovernanceConfig inline(String text) {
        return ConfigLoader.parseYaml(text);
    }

    private static TollgateConfigSource file(Path path, Config config) {
        AtomicLong reloads = new AtomicLong();
        ConfigFile file = ConfigFile.builder(path).pollInterval(config.getPollInterval())
                .listener(new ConfigFile.Listener() {
                    @Override
                    public void reloaded(Path reloaded, GovernanceConfig loaded) {
                        reloads.incrementAndGet();
                    }
                })
                .start();
        return new TollgateConfigSource() {
            @Override
            public GovernanceConfig get() {
                return file.get();
            }

            @Override
            public String description() {
                return "file " + path;
            }

            @Override
            public long version() {
                return reloads.get();
            }

            @Override
            public void close() {
                file.close();
            }
        };
    }
}
