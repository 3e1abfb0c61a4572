package io.tollgate.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.api.sync.RedisCommands;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.ReserveResult;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** Small helpers shared by this module's tests. */
final class TestStores {

    private TestStores() {
    }

    /** A key prefix no other test uses. */
    static String uniquePrefix(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static RedisGovernanceStore store(RedisClient client, RedisStoreOptions.Builder options) {
        return RedisGovernanceStore.builder(client).options(options.build()).build();
    }

    static ReserveResult reserve(RedisGovernanceStore store, CounterOp... ops) {
        return join(store.reserve(List.of(ops)));
    }

    /** The script calls ({@code EVALSHA}) a Redis counted, from {@code INFO commandstats}. */
    static long scriptCalls(RedisCommands<String, String> redis) {
        for (String line : redis.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_evalsha:")) {
                return Long.parseLong(line.replaceAll("^cmdstat_evalsha:calls=(\\d+),.*", "$1"));
            }
        }
        return 0;
    }

    static <T> T join(java.util.concurrent.CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("store call failed: " + e, e);
        }
    }

    /** What a call failed with: thrown at once, or the failure of its stage without the future's wrappers. */
    static Throwable failureOf(java.util.function.Supplier<java.util.concurrent.CompletionStage<?>> call) {
        java.util.concurrent.CompletionStage<?> stage;
        try {
            stage = call.get();
        } catch (RuntimeException e) {
            return e;
        }
        try {
            Object value = stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + value);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            return cause;
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("store call did not complete: " + e, e);
        }
    }

    /** Every key matching {@code pattern}, by SCAN. */
    static List<String> scan(RedisCommands<String, String> redis, String pattern) {
        List<String> keys = new ArrayList<>();
        ScanIterator.scan(redis, ScanArgs.Builder.matches(pattern).limit(1_000)).forEachRemaining(keys::add);
        return keys;
    }

    /** Redis TIME in epoch milliseconds. */
    static long redisTime(RedisCommands<String, String> redis) {
        List<String> time = redis.time();
        return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
    }
}
