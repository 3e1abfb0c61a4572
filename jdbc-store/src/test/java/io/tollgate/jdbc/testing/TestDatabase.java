package io.tollgate.jdbc.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.mariadb.MariaDBContainer;
import org.testcontainers.utility.DockerImageName;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * A fresh MariaDB database for one test class, dropped on {@link #close()}, with a HikariCP pool on it.
 *
 * <p>The server, in order of preference:
 * <ol>
 *   <li>{@code TOLLGATE_JDBC_URL} (default {@code jdbc:mariadb://127.0.0.1:3306/}) as {@code TOLLGATE_JDBC_USER}
 *       (default {@code root}) with {@code TOLLGATE_JDBC_PASSWORD} (default none);</li>
 *   <li>when that default server is not reachable and Docker is, a Testcontainers MariaDB 10.11 shared by the whole
 *       test run;</li>
 *   <li>else the test fails, saying how to provide a server.</li>
 * </ol>
 *
 * <p>Thread-safe.
 */
public final class TestDatabase implements AutoCloseable {

    private static final String DEFAULT_URL = "jdbc:mariadb://127.0.0.1:3306/";
    private static Server server;
    private static MariaDBContainer container;

    private final Server target;
    private final String name;
    private final HikariDataSource dataSource;
    private final List<HikariDataSource> extraPools = new ArrayList<>();

    private TestDatabase(Server target, String name) {
        this.target = target;
        this.name = name;
        this.dataSource = newDataSource(config -> config.setPoolName(name));
    }

    /** Creates {@code tollgate_test_<class>_<random>} and a pool on it. */
    public static TestDatabase create(Class<?> testClass) {
        Server server = server();
        String simple = testClass.getSimpleName().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "_");
        String name = "tollgate_test_" + simple.substring(0, Math.min(simple.length(), 30)) + "_"
                + UUID.randomUUID().toString().substring(0, 8);
        server.execute("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
        return new TestDatabase(server, name);
    }

    /** The pool on this database. */
    public HikariDataSource dataSource() {
        return dataSource;
    }

    public String name() {
        return name;
    }

    /** The host and port of the server, for a proxy in front of it. */
    public String host() {
        return target.host();
    }

    public int port() {
        return target.port();
    }

    /** Another pool on this database, as another replica would have; closed with this database. */
    public HikariDataSource newDataSource(Consumer<HikariConfig> customizer) {
        return newDataSource(target.host(), target.port(), customizer);
    }

    /** Another pool on this database through {@code host:port} (a proxy); closed with this database. */
    public HikariDataSource newDataSource(String host, int port, Consumer<HikariConfig> customizer) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(target.url(host, port, name));
        config.setUsername(target.user());
        config.setPassword(target.password());
        config.setMaximumPoolSize(4);
        config.setConnectionTimeout(10_000);
        customizer.accept(config);
        HikariDataSource pool = new HikariDataSource(config);
        synchronized (extraPools) {
            extraPools.add(pool);
        }
        return pool;
    }

    @Override
    public void close() {
        synchronized (extraPools) {
            extraPools.forEach(HikariDataSource::close);
        }
        target.execute("DROP DATABASE IF EXISTS " + name);
    }

    private static synchronized Server server() {
        if (server != null) {
            return server;
        }
        String url = System.getenv("TOLLGATE_JDBC_URL");
        boolean explicit = url != null && !url.isBlank();
        Server candidate = new Server(explicit ? url : DEFAULT_URL, env("TOLLGATE_JDBC_USER", "root"),
                env("TOLLGATE_JDBC_PASSWORD", ""));
        SQLException failure = candidate.check();
        if (failure == null) {
            return server = candidate;
        }
        if (explicit) {
            throw new IllegalStateException("TOLLGATE_JDBC_URL=" + url + " is not reachable as "
                    + candidate.user() + ": " + failure.getMessage(), failure);
        }
        if (dockerAvailable()) {
            return server = startContainer();
        }
        throw new IllegalStateException("The JDBC store tests need MariaDB 10.11+, and none was found: " + DEFAULT_URL
                + " as root without password failed (" + failure.getMessage() + "), and Docker is not available for"
                + " Testcontainers. Start a server on 127.0.0.1:3306 (apt-get install mariadb-server), or set "
                + "TOLLGATE_JDBC_URL (such as jdbc:mariadb://db.example:3306/) with TOLLGATE_JDBC_USER and "
                + "TOLLGATE_JDBC_PASSWORD, or start Docker.", failure);
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static Server startContainer() {
        container = new MariaDBContainer(DockerImageName.parse("mariadb:10.11"));
        container.start();
        // the container's root has the same password as its user
        return new Server("jdbc:mariadb://" + container.getHost() + ":" + container.getMappedPort(3306) + "/",
                "root", container.getPassword());
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null ? fallback : value;
    }

    /** A server: its base URL (no database, maybe with options after '?'), user and password. */
    private record Server(String baseUrl, String user, String password) {

        SQLException check() {
            try {
                connect().close();
                return null;
            } catch (SQLException e) {
                return e;
            }
        }

        void execute(String sql) {
            try (Connection connection = connect(); Statement statement = connection.createStatement()) {
                statement.execute(sql);
            } catch (SQLException e) {
                throw new IllegalStateException(sql + " failed on " + baseUrl + ": " + e.getMessage(), e);
            }
        }

        private Connection connect() throws SQLException {
            DriverManager.setLoginTimeout(5);
            return DriverManager.getConnection(baseUrl, user, password);
        }

        String host() {
            String hostPort = hostPort();
            int colon = hostPort.lastIndexOf(':');
            return colon < 0 ? hostPort : hostPort.substring(0, colon);
        }

        int port() {
            String hostPort = hostPort();
            int colon = hostPort.lastIndexOf(':');
            return colon < 0 ? 3306 : Integer.parseInt(hostPort.substring(colon + 1));
        }

        /** The URL of {@code database} through {@code host:port}, keeping the options of the base URL. */
        String url(String host, int port, String database) {
            int query = baseUrl.indexOf('?');
            return "jdbc:mariadb://" + host + ":" + port + "/" + database + (query < 0 ? "" : baseUrl.substring(query));
        }

        private String hostPort() {
            int start = baseUrl.indexOf("//") + 2;
            int end = start;
            while (end < baseUrl.length() && "/?".indexOf(baseUrl.charAt(end)) < 0) {
                end++;
            }
            return baseUrl.substring(start, end);
        }
    }
}
