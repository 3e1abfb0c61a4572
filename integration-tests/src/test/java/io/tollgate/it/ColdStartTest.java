package io.tollgate.it;

import io.tollgate.redis.testing.RedisFixture;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Four replica processes (separate JVMs, each with its own client) started at once against a Redis that has never
 * seen the store, each checking from 8 threads as soon as its store is built: a built store is ready, so not one
 * check fails while the JVMs load classes, connect and load the scripts.
 */
class ColdStartTest {

    private static final int PROCESSES = 4;
    private static final int THREADS = 8;
    private static final int CHECKS = 1_000;
    private static final Pattern RESULT = Pattern.compile(Pattern.quote(ColdStartReplica.RESULT)
            + "admitted=(\\d+) failed=(\\d+) build_ms=(\\d+) first_failures=(.*)");

    @Test
    void fourReplicasStartedTogetherCheckWithoutATimeout() throws Exception {
        try (RedisFixture redis = RedisFixture.start()) {
            List<Process> replicas = new ArrayList<>();
            for (int p = 0; p < PROCESSES; p++) {
                replicas.add(new ProcessBuilder(javaBinary(), "-cp", System.getProperty("java.class.path"),
                        ColdStartReplica.class.getName(), redis.uri().toString(), Integer.toString(THREADS),
                        Integer.toString(CHECKS)).redirectErrorStream(true).start());
            }
            long admitted = 0;
            long failed = 0;
            for (Process replica : replicas) {
                String output = output(replica);
                Matcher result = RESULT.matcher(output);
                assertThat(result.find()).as(output).isTrue();
                System.out.println("replica: " + result.group());
                admitted += Long.parseLong(result.group(1));
                failed += Long.parseLong(result.group(2));
            }
            assertThat(failed).as("checks that failed").isZero();
            assertThat(admitted).isEqualTo((long) PROCESSES * THREADS * CHECKS);
        }
    }

    private static String output(Process process) throws IOException, InterruptedException {
        byte[] bytes = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
