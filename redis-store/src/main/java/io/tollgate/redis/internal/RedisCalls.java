package io.tollgate.redis.internal;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.tollgate.StoreException;
import io.tollgate.TollgateException;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Script calls and their failures: {@code EVALSHA} with a reload on {@code NOSCRIPT}, every call bounded by the
 * command timeout on the caller's side (a paused Redis never hangs a caller), and every failure turned into the
 * exception the store's contract names.
 *
 * <p>On Redis Cluster a script call goes to the node that serves its keys' slot, and each node has its own script
 * cache (a node that just joined, or a replica promoted after a {@code SCRIPT FLUSH}, may not know a script): there
 * the reload is an {@code EVAL} of the source, which Lettuce routes like the failed call and which leaves the script
 * cached on that node; standalone Redis loads the script with {@code SCRIPT LOAD}.
 *
 * <p>Thread-safe: Lettuce pipelines concurrent commands on the one shared connection.
 */
public final class RedisCalls {

    /** Name used in exception messages. */
    public static final String STORE = "redis store";

    private static final String OVERFLOW = "TOLLGATE_OVERFLOW ";
    private static final String CLOCK = "TOLLGATE_CLOCK ";

    private final RedisClusterAsyncCommands<String, String> commands;
    private final boolean cluster;
    private final Duration timeout;
    private final long timeoutMillis;

    /**
     * @param commands the connection's commands: a standalone connection's, or a cluster connection's (which route
     *                 every command by its first key)
     * @param cluster  whether {@code commands} are a cluster connection's
     */
    public RedisCalls(RedisClusterAsyncCommands<String, String> commands, boolean cluster, Duration timeout) {
        this.commands = commands;
        this.cluster = cluster;
        this.timeout = timeout;
        this.timeoutMillis = timeout.toMillis();
    }

    public RedisClusterAsyncCommands<String, String> commands() {
        return commands;
    }

    public Duration timeout() {
        return timeout;
    }

    /**
     * Runs a script by its digest; if Redis no longer has it (restarted, {@code SCRIPT FLUSH}, a new node), loads it
     * and runs it again, once. Every key must be in one slot on Redis Cluster. Not bounded: see {@link #bounded}.
     */
    public CompletableFuture<List<Object>> eval(Script script, String[] keys, String[] args) {
        CompletableFuture<List<Object>> call =
                commands.<List<Object>>evalsha(script.sha(), ScriptOutputType.MULTI, keys, args).toCompletableFuture();
        return call.exceptionallyCompose(failure -> {
            if (!(unwrap(failure) instanceof RedisNoScriptException)) {
                return CompletableFuture.failedFuture(failure);
            }
            if (cluster) {
                return commands.<List<Object>>eval(script.source(), ScriptOutputType.MULTI, keys, args)
                        .toCompletableFuture();
            }
            return commands.scriptLoad(script.source()).toCompletableFuture().thenCompose(sha ->
                    commands.<List<Object>>evalsha(sha, ScriptOutputType.MULTI, keys, args).toCompletableFuture());
        });
    }

    /**
     * The outcome of {@code stage}, or a {@link StoreException} once the command timeout has passed, whichever comes
     * first; every other failure translated by {@link #translate}.
     */
    public <T> CompletableFuture<T> bounded(CompletableFuture<T> stage, String operation) {
        CompletableFuture<T> result = new CompletableFuture<>();
        stage.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS).whenComplete((value, failure) -> {
            if (failure == null) {
                result.complete(value);
            } else {
                result.completeExceptionally(translate(failure, operation));
            }
        });
        return result;
    }

    /** Waits, on a thread that may block, for a stage; at most the command timeout. */
    public <T> T await(CompletionStage<T> stage, String operation) {
        try {
            return stage.toCompletableFuture().get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(STORE + ": interrupted during " + operation, e);
        } catch (ExecutionException | TimeoutException e) {
            throw translate(e, operation);
        }
    }

    /** The exception a store call reports for a failure. */
    public RuntimeException translate(Throwable failure, String operation) {
        Throwable cause = unwrap(failure);
        if (cause instanceof TimeoutException || cause instanceof RedisCommandTimeoutException) {
            return StoreException.timeout(STORE, operation, timeout, cause);
        }
        if (cause instanceof TollgateException || cause instanceof ArithmeticException
                || cause instanceof IllegalArgumentException) {
            return (RuntimeException) cause;
        }
        if (cause instanceof RedisCommandExecutionException) {
            String message = String.valueOf(cause.getMessage());
            if (message.startsWith(OVERFLOW)) {
                ArithmeticException overflow = new ArithmeticException(message.substring(OVERFLOW.length()));
                overflow.initCause(cause);
                return overflow;
            }
            if (message.startsWith(CLOCK)) {
                return new StoreException(STORE + ": " + operation + ": " + message.substring(CLOCK.length()), cause);
            }
        }
        return StoreException.unavailable(STORE, operation, cause);
    }

    /** Whether a failure is a script's overflow refusal. */
    public static boolean isOverflow(Throwable failure) {
        Throwable cause = unwrap(failure);
        return cause instanceof ArithmeticException || (cause instanceof RedisCommandExecutionException
                && String.valueOf(cause.getMessage()).startsWith(OVERFLOW));
    }

    static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
