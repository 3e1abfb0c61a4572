package io.tollgate.redis.cluster;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tollgate.redis.testing.RedisClusterFixture;
import io.tollgate.redis.testing.RedisFixture;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** Small helpers shared by the cluster tests. */
final class ClusterTests {

    private ClusterTests() {
    }

    /** A key prefix no other test uses. */
    static String uniquePrefix(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("store call failed: " + e, e);
        }
    }

    /** What a stage failed with, without the future's wrappers. */
    static Throwable failureOf(CompletionStage<?> stage) {
        try {
            Object value = stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + value);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError("store call did not complete: " + e, e);
        }
    }

    /** Runs {@code action} on a plain (not cluster-aware) connection to one node. */
    static <T> T onNode(RedisClusterFixture.Node node, Function<RedisCommands<String, String>, T> action) {
        RedisClient client = RedisClient.create(node.uri());
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            return action.apply(connection.sync());
        } finally {
            RedisFixture.shutdown(client);
        }
    }

    /** The keys of one node that match {@code pattern}, by SCAN. */
    static List<String> keysOn(RedisClusterFixture.Node node, String pattern) {
        return onNode(node, redis -> {
            List<String> keys = new ArrayList<>();
            ScanIterator.scan(redis, ScanArgs.Builder.matches(pattern).limit(1_000)).forEachRemaining(keys::add);
            return keys;
        });
    }

    /** A {@code calls=} count of {@code INFO commandstats}, or 0 if the command was not run. */
    static long calls(RedisClusterFixture.Node node, String command) {
        String stats = onNode(node, redis -> redis.info("commandstats"));
        for (String line : stats.split("\r?\n")) {
            if (line.startsWith("cmdstat_" + command + ":")) {
                String calls = line.substring(line.indexOf("calls=") + 6);
                return Long.parseLong(calls.substring(0, calls.indexOf(',')));
            }
        }
        return 0;
    }
}
