package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.RedisFixture;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.tollgate.redis.TestStores.join;
import static io.tollgate.redis.TestStores.reserve;
import static org.assertj.core.api.Assertions.assertThat;

/** A check and a charge are one round trip each, whatever the number of levels: one EVALSHA and nothing else. */
class RedisRoundTripTest {

    private static final int CALLS = 50;
    private static final String STORE_CLIENT = "store-under-test";

    private RedisFixture server;
    private RedisClient adminClient;
    private RedisClient storeClient;
    private StatefulRedisConnection<String, String> admin;
    private RedisCommands<String, String> redis;

    @BeforeEach
    void start() {
        // CONFIG RESETSTAT and MONITOR see the whole server: a server of this test's own
        server = RedisFixture.start();
        adminClient = RedisClient.create(server.uri());
        admin = adminClient.connect();
        redis = admin.sync();
        storeClient = RedisClient.create(server.uriBuilder().withClientName(STORE_CLIENT).build());
    }

    @AfterEach
    void stop() {
        admin.close();
        RedisFixture.shutdown(adminClient);
        RedisFixture.shutdown(storeClient);
        server.close();
    }

    @Test
    void eachCheckAndEachChargeOfSevenLevelsIsExactlyOneEvalsha() throws IOException {
        List<Limit> limits = sevenLevels();
        List<CounterOp> check = limits.stream().map(l -> CounterOp.take(l, 1)).toList();
        List<CounterOp> charge = limits.stream().map(l -> CounterOp.add(l, 3)).toList();
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(storeClient).build()) {
            // the first calls set the data-loss marker and may load the scripts
            reserve(store, check.toArray(new CounterOp[0]));
            join(store.charge("warm-up", charge));
            String storeAddress = clientAddress(STORE_CLIENT);

            try (Monitor monitor = new Monitor(server)) {
                redis.configResetstat();
                for (int i = 0; i < CALLS; i++) {
                    assertThat(reserve(store, check.toArray(new CounterOp[0])).admitted()).isTrue();
                }
                assertThat(evalshaCalls()).isEqualTo(CALLS);

                redis.configResetstat();
                for (int i = 0; i < CALLS; i++) {
                    assertThat(join(store.charge("r" + i, charge))).isEqualTo(ChargeResult.APPLIED);
                }
                assertThat(evalshaCalls()).isEqualTo(CALLS);

                redis.echo("round-trips-done");
                Map<String, Integer> sent = monitor.commandsFrom(storeAddress, "round-trips-done");
                assertThat(sent).containsExactly(Map.entry("evalsha", 2 * CALLS));
            }
        }
    }

    private static List<Limit> sevenLevels() {
        WindowSpec minute = WindowSpec.rolling(ResetPeriod.parse("1m"));
        return List.of(
                new Limit(Holder.virtualKey("vk"), Metric.REQUESTS, 1_000_000, minute),
                new Limit(Holder.providerConfig("vk", "openai"), Metric.REQUESTS, 1_000_000, minute),
                new Limit(Holder.team("team"), Metric.REQUESTS, 1_000_000, minute),
                new Limit(Holder.customer("customer"), Metric.REQUESTS, 1_000_000, minute),
                new Limit(Holder.user("user"), Metric.REQUESTS, 1_000_000, minute),
                new Limit(Holder.modelConfig("gpt-4o@openai"), Metric.REQUESTS, 1_000_000, minute),
                new Limit(Holder.modelConfig("*"), Metric.REQUESTS, 1_000_000, minute));
    }

    private long evalshaCalls() {
        for (String line : redis.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_evalsha:")) {
                String calls = line.substring(line.indexOf("calls=") + 6);
                return Long.parseLong(calls.substring(0, calls.indexOf(',')));
            }
        }
        return 0;
    }

    private String clientAddress(String name) {
        for (String line : redis.clientList().split("\r?\n")) {
            if (line.contains(" name=" + name + " ")) {
                for (String field : line.split(" ")) {
                    if (field.startsWith("addr=")) {
                        return field.substring(5);
                    }
                }
            }
        }
        throw new AssertionError("no client named " + name);
    }

    /** A raw MONITOR connection: the commands clients send, with the commands that scripts run marked "lua". */
    private static final class Monitor implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader lines;

        Monitor(RedisFixture server) throws IOException {
            socket = new Socket(server.host(), server.port());
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write("MONITOR\r\n".getBytes(StandardCharsets.US_ASCII));
            lines = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertThat(lines.readLine()).isEqualTo("+OK");
        }

        /** Counts by command name of what {@code address} sent, until a line holding {@code sentinel}. */
        Map<String, Integer> commandsFrom(String address, String sentinel) throws IOException {
            Map<String, Integer> counts = new HashMap<>();
            List<String> seen = new ArrayList<>();
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.contains("\"" + sentinel + "\"")) {
                    return counts;
                }
                seen.add(line);
                if (line.contains(" " + address + "] ")) {
                    String rest = line.substring(line.indexOf("] ") + 3);
                    counts.merge(rest.substring(0, rest.indexOf('"')).toLowerCase(), 1, Integer::sum);
                }
            }
            throw new AssertionError("monitor ended before the sentinel after " + seen.size() + " lines");
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
