package io.tollgate.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.tollgate.Customer;
import io.tollgate.GovernanceConfig;
import io.tollgate.StoreException;
import io.tollgate.jdbc.testing.Await;
import io.tollgate.jdbc.testing.TcpProxy;
import io.tollgate.jdbc.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A gateway starting while MariaDB cannot be reached (a proxy in front of it is cut), then reaching it. */
class ConfigWatcherOutageTest {

    private static TestDatabase db;

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create(ConfigWatcherOutageTest.class);
        JdbcConfigStore.create(db.dataSource()).replaceAll(ConfigFixtures.full());
    }

    @AfterAll
    static void dropDatabase() {
        db.close();
    }

    @Test
    void aWatcherStartsFromItsFallbackWhileTheDatabaseIsDownAndSwitchesWhenItAnswers() throws Exception {
        GovernanceConfig fallback = new GovernanceConfig(List.of(new Customer("fallback", List.of(), null)),
                List.of(), List.of(), List.of(), List.of());
        try (TcpProxy proxy = new TcpProxy(db.host(), db.port());
             HikariDataSource viaProxy = throughProxy(proxy, "watcher-via-proxy")) {
            proxy.cut();
            JdbcConfigStore replica = JdbcConfigStore.builder(viaProxy).migrate(false).build();

            try (ConfigWatcher watcher = replica.watch(Duration.ofMillis(100), fallback)) {
                assertThat(watcher.current()).isEqualTo(fallback);
                assertThat(watcher.version()).isEqualTo(ConfigWatcher.NOT_LOADED);
                Thread.sleep(500);
                assertThat(watcher.current()).as("still down: the fallback stays").isEqualTo(fallback);

                proxy.restore();
                Await.until("the database's configuration", Duration.ofSeconds(10),
                        () -> watcher.version() != ConfigWatcher.NOT_LOADED);

                JdbcConfigStore direct = JdbcConfigStore.builder(db.dataSource()).migrate(false).build();
                assertThat(watcher.current()).isEqualTo(ConfigFixtures.full()).isEqualTo(direct.load());
                assertThat(watcher.version()).isEqualTo(direct.version());
            }
        }
    }

    @Test
    void withoutAFallbackAWatcherRefusesToStartWhileTheDatabaseIsDown() throws Exception {
        try (TcpProxy proxy = new TcpProxy(db.host(), db.port());
             HikariDataSource viaProxy = throughProxy(proxy, "no-fallback-via-proxy")) {
            proxy.cut();
            JdbcConfigStore replica = JdbcConfigStore.builder(viaProxy).migrate(false).build();

            assertThatThrownBy(replica::watch).isInstanceOf(StoreException.class);
            assertThatThrownBy(() -> replica.watch((GovernanceConfig) null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("fallback");
        }
    }

    private static HikariDataSource throughProxy(TcpProxy proxy, String name) {
        return db.newDataSource("127.0.0.1", proxy.port(), pool -> {
            pool.setPoolName(name);
            pool.setMaximumPoolSize(2);
            pool.setConnectionTimeout(500);
            pool.setValidationTimeout(250);
            // the pool starts while the database is down, and connects once it answers
            pool.setInitializationFailTimeout(-1);
        });
    }
}
