package io.tollgate.fleet;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tollgate.benchmarks.RedisLauncher;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FleetRedisCommandStatsTest {

    @Test
    void countsAreReadFromTheCmdstatLinesSubcommandsIncluded() {
        RedisCommandStats.Counts counts = RedisCommandStats.Counts.parse("""
                # Commandstats\r
                cmdstat_evalsha:calls=1200,usec=9000,usec_per_call=7.50,rejected_calls=0,failed_calls=2\r
                cmdstat_eval:calls=3,usec=40,usec_per_call=13.33,rejected_calls=0,failed_calls=0\r
                cmdstat_client|setinfo:calls=8,usec=10,usec_per_call=1.25,rejected_calls=0,failed_calls=0\r
                cmdstat_time:calls=1203\r
                """);

        assertThat(counts.calls("evalsha")).isEqualTo(1_200);
        assertThat(counts.calls("client|setinfo")).isEqualTo(8);
        assertThat(counts.calls("get")).isZero();
        assertThat(counts.scripts()).isEqualTo(1_203);
        assertThat(counts.total()).isEqualTo(2_414);
        assertThat(counts.top(2)).isEqualTo("time 1,203, evalsha 1,200");
    }

    @Test
    void aDifferenceLeavesOutTheEarlierReadingsOwnInfoCall() {
        RedisCommandStats.Counts before = RedisCommandStats.Counts.parse("cmdstat_info:calls=4\ncmdstat_get:calls=10");
        RedisCommandStats.Counts after = RedisCommandStats.Counts.parse(
                "cmdstat_info:calls=5\ncmdstat_get:calls=12\ncmdstat_evalsha:calls=1");

        RedisCommandStats.Counts between = after.since(before);

        assertThat(between.calls()).containsOnlyKeys("get", "evalsha");
        assertThat(between.total()).isEqualTo(3);
    }

    @Test
    void onAServerOfItsOwnTheReadingsCountExactlyTheScriptsAndWhatTheyRan() {
        try (RedisLauncher redis = RedisLauncher.start()) {
            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> connection = client.connect();
                 RedisCommandStats stats = new RedisCommandStats(client::connect)) {
                RedisCommands<String, String> commands = connection.sync();
                String sha = commands.scriptLoad("redis.call('INCR', KEYS[1]); return redis.call('TIME')[1]");
                RedisCommandStats.Counts before = stats.read();

                for (int i = 0; i < 3; i++) {
                    commands.evalsha(sha, ScriptOutputType.INTEGER, "fleet-test:counter");
                }
                commands.eval("return 1", ScriptOutputType.INTEGER);
                RedisCommandStats.Counts run = stats.read().since(before);

                assertThat(run.scripts()).isEqualTo(4);
                assertThat(run.calls()).containsOnlyKeys("evalsha", "eval", "incr", "time");
                assertThat(run.total()).isEqualTo(10);
                assertThat(new RedisCommandStats.PerDecision(run, 4).scripts()).isEqualTo(1.0);
                assertThat(new RedisCommandStats.PerDecision(run, 4).commands()).isEqualTo(2.5);
            } finally {
                client.shutdown();
            }
        }
    }
}
