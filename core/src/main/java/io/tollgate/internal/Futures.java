package io.tollgate.internal;

import io.tollgate.StoreException;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/** Waits for a store's answer on behalf of the synchronous API. */
public final class Futures {

    private Futures() {
    }

    /** The stage's value; its failure rethrown as it was when unchecked, else as a {@link StoreException}. */
    public static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for the store", e);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
    }

    public static RuntimeException unwrap(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new StoreException("store call failed: " + cause, cause);
    }
}
