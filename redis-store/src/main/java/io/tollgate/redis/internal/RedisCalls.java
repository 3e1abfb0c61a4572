package io.tollgate.redis.internal;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.CommandType;
import io.tollgate.StoreException;
import io.tollgate.StoreRefusedException;
import io.tollgate.TollgateException;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Script calls and their failures: {@code EVALSHA} with a reload on {@code NOSCRIPT}, every call bounded by the
 * command timeout on the caller's side (a paused Redis never hangs a caller), and every failure turned into the
 * exception the store's contract names: a {@link StoreException} when Redis cannot answer now (timeout, connection,
 * loading, failover), a {@link StoreRefusedException} when it answered with an error that a retry will not change,
 * an {@link ArithmeticException} for a counter that would overflow.
 *
 * <p>On Redis Cluster a script call goes to the node that serves its keys' slot, and each node has its own script
 * cache: there the reload is an {@code EVAL} of the source, which Lettuce routes like the failed call and which leaves
 * the script cached on that node; standalone Redis loads the script with {@code SCRIPT LOAD}.
 *
 * <p>Thread-safe: Lettuce pipelines concurrent commands on the one shared connection.
 */
public final class RedisCalls implements AutoCloseable {

    /** Name used in exception messages. */
    public static final String STORE = "redis store";

    private static final String OVERFLOW = "TOLLGATE_OVERFLOW ";
    /** Error replies that say the server cannot answer now, not that the call is wrong. */
    private static final List<String> TRANSIENT = List.of("LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN",
            "TRYAGAIN", "READONLY", "NOREPLICAS", "MOVED", "ASK");

    private final Connector connector;
    private final boolean cluster;
    private final Duration timeout;
    private final Deadlines deadlines;

    /**
     * @param connector the store's connection: a standalone one, or a cluster one (which routes every command by its
     *                  first key)
     * @param cluster   whether {@code connector} holds a cluster connection
     */
    public RedisCalls(Connector connector, boolean cluster, Duration timeout) {
        this.connector = connector;
        this.cluster = cluster;
        this.timeout = timeout;
        this.deadlines = new Deadlines(timeout.toNanos(), (call, operation) -> call.completeExceptionally(
                StoreException.timeout(STORE, operation, timeout, null)), "tollgate-redis-deadlines");
    }

    /** The connection's commands; a {@link StoreException} while it has never been open. */
    public RedisClusterAsyncCommands<String, String> commands() {
        return connector.commands();
    }

    public Duration timeout() {
        return timeout;
    }

    /**
     * Runs a script by its digest, reading the reply with a fresh {@code output}; if Redis no longer has the script
     * (restarted, {@code SCRIPT FLUSH}, a new node), loads it and runs it again, once. Every key must be in one slot on
     * Redis Cluster. Failures translated; not bounded: the caller bounds the operation it is part of
     * ({@link #bounded}, {@link #await}), once.
     */
    public <T> CompletableFuture<T> script(LuaScript script, String[] keys, String[] args,
                                           Supplier<? extends ScriptOutput<T>> output, String operation) {
        return script(script, new Bulk[] {Bulk.of(keys)}, new Bulk[] {Bulk.of(args)}, output, operation);
    }

    /**
     * {@link #script(LuaScript, String[], String[], Supplier, String)} with keys and arguments encoded already: the
     * keys are the parts {@code keys} in order, the arguments the parts {@code args}.
     */
    public <T> CompletableFuture<T> script(LuaScript script, Bulk[] keys, Bulk[] args,
                                           Supplier<? extends CommandOutput<String, String, T>> output,
                                           String operation) {
        CompletableFuture<T> call;
        try {
            call = dispatch(CommandType.EVALSHA, new ScriptArgs(script.sha(), keys, args), output.get());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(translate(e, operation));
        }
        return translated(call.exceptionallyCompose(failure -> {
            if (!(unwrap(failure) instanceof RedisNoScriptException)) {
                return CompletableFuture.failedFuture(failure);
            }
            if (cluster) {
                return dispatch(CommandType.EVAL, new ScriptArgs(script.source(), keys, args), output.get());
            }
            return commands().scriptLoad(script.source()).toCompletableFuture()
                    .thenCompose(sha -> dispatch(CommandType.EVALSHA, new ScriptArgs(sha, keys, args), output.get()));
        }), operation);
    }

    private <T> CompletableFuture<T> dispatch(CommandType type, ScriptArgs args,
                                              CommandOutput<String, String, T> output) {
        return commands().dispatch(type, output, args).toCompletableFuture();
    }

    /**
     * Loads every script (standalone Redis), so that the first calls need no reload; on Redis Cluster each node loads
     * a script on its first call. Waits at most the command timeout per script.
     */
    public void loadScripts() {
        if (cluster) {
            return;
        }
        for (LuaScript script : LuaScript.values()) {
            await(commands().scriptLoad(script.source()), "load scripts");
        }
    }

    /** The outcome of {@code stage}, its failure translated by {@link #translate}. */
    private <T> CompletableFuture<T> translated(CompletableFuture<T> stage, String operation) {
        CompletableFuture<T> result = new CompletableFuture<>();
        stage.whenComplete((value, failure) -> {
            if (failure == null) {
                result.complete(value);
            } else {
                result.completeExceptionally(translate(failure, operation));
            }
        });
        return result;
    }

    /**
     * The outcome of {@code stage}, or a {@link StoreException} once the command timeout has passed, whichever comes
     * first; every other failure translated by {@link #translate}.
     */
    public <T> CompletableFuture<T> bounded(CompletableFuture<T> stage, String operation) {
        CompletableFuture<T> result = deadlines.watch(new CompletableFuture<>(), operation);
        stage.whenComplete((value, failure) -> {
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
            return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(STORE + ": interrupted during " + operation, e);
        } catch (ExecutionException | TimeoutException e) {
            throw translate(e, operation);
        }
    }

    /** The exception a store call reports for a failure; a failure already translated is returned as it is. */
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
            String code = message.split(" ", 2)[0].toUpperCase(Locale.ROOT);
            if (!TRANSIENT.contains(code) && !(cause instanceof RedisNoScriptException)) {
                return new StoreRefusedException(STORE + ": " + operation + " refused by Redis: " + message, cause);
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

    @Override
    public void close() {
        deadlines.close();
    }
}
