package io.tollgate;

import io.tollgate.internal.Checks;
import io.tollgate.internal.Futures;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The charges of one streamed upstream answer, opened by {@link UsageTracker#openStream} with the decision that
 * admitted it. Each {@link #charge} charges one chunk that carries usage, numbered 0, 1, 2...; a chunk without usage
 * charges nothing and needs no call. {@link #finish} charges the last chunk and ends the request: the reservation of
 * the decision is settled once (its estimates given back, its in-flight places freed). {@link #close()} ends a stream
 * that was not finished, as a failed call charged with what its chunks carried; after an end it does nothing, so a
 * stream belongs in a try-with-resources block:
 *
 * <pre>{@code
 * try (UsageStream stream = tracker.openStream(decision, requestId)) {
 *     // ... relay the upstream answer; at its end:
 *     stream.finish(tokens, cost);
 * } // an answer cut short is settled here
 * }</pre>
 *
 * <p>The charges are {@link UsageUpdate}s over the limits the check resolved ({@link Reservation}), with the
 * idempotency keys {@code requestId#chunk}: a chunk is counted at most once across every replica, and the settle
 * happens once, since the store settles a lease once.
 *
 * <p>Thread-safe and non-blocking but for the methods that wait for the store ({@link #charge}, {@link #finish},
 * {@link #close()}): chunk numbers are taken atomically, and once the stream has ended no chunk can be charged.
 * {@link #toString()} shows the request id, never a secret (the stream holds none).
 */
public final class UsageStream implements AutoCloseable {

    /** Set in {@link #state} once the last chunk took its number; the other bits count the chunks charged. */
    private static final int ENDED = Integer.MIN_VALUE;

    private final UsageTracker tracker;
    private final Reservation reservation;
    private final String requestId;
    private final AtomicInteger state = new AtomicInteger();

    UsageStream(UsageTracker tracker, Reservation reservation, String requestId) {
        this.tracker = tracker;
        this.reservation = reservation;
        this.requestId = requestId;
    }

    /**
     * Charges the next chunk with the usage it carries, and waits. Throws {@link StoreException} when the store
     * cannot answer.
     *
     * @throws IllegalStateException if the stream has ended
     */
    public ChargeOutcome charge(long tokens, Money cost) {
        return Futures.join(chargeAsync(tokens, cost));
    }

    /**
     * {@link #charge} without blocking; completes exceptionally with {@link StoreException}. A bad argument or an
     * ended stream is refused at once, by a thrown exception.
     */
    public CompletionStage<ChargeOutcome> chargeAsync(long tokens, Money cost) {
        checkUsage(tokens, cost);
        int chunk = takeChunk();
        return tracker.chargeAsync(update(chunk, CallPart.CHUNK_WITH_USAGE, true, tokens, cost));
    }

    /**
     * Charges the last chunk with the usage it carries (for OpenAI, the usage of the whole answer) and ends the
     * request, settling the reservation; waits. Throws {@link StoreException} when the store cannot answer; what the
     * check holds is then given back when its lease expires.
     *
     * @throws IllegalStateException if the stream has ended
     */
    public ChargeOutcome finish(long tokens, Money cost) {
        return Futures.join(finishAsync(tokens, cost));
    }

    /** {@link #finish(long, Money)} without blocking; a bad argument or an ended stream is refused at once. */
    public CompletionStage<ChargeOutcome> finishAsync(long tokens, Money cost) {
        checkUsage(tokens, cost);
        return tracker.chargeAsync(update(end(), CallPart.LAST_CHUNK_WITH_USAGE, true, tokens, cost));
    }

    /**
     * Ends the request with a last chunk that carries no usage (every chunk with usage was charged already), settling
     * the reservation; waits.
     *
     * @throws IllegalStateException if the stream has ended
     */
    public ChargeOutcome finish() {
        return Futures.join(finishAsync());
    }

    /** {@link #finish()} without blocking; an ended stream is refused at once. */
    public CompletionStage<ChargeOutcome> finishAsync() {
        return tracker.chargeAsync(update(end(), CallPart.LAST_CHUNK, true, 0, Money.ZERO));
    }

    /**
     * Ends a stream that was not finished, as a failed call: nothing more is charged, the reservation is settled.
     * Does nothing when the stream has ended already. Waits for the store, and throws {@link StoreException} when it
     * cannot answer; what the check holds is then given back when its lease expires.
     */
    @Override
    public void close() {
        Futures.join(closeAsync());
    }

    /** {@link #close()} without blocking: completes at once when the stream has ended already. */
    public CompletionStage<Void> closeAsync() {
        int chunk = endIfOpen();
        if (chunk < 0) {
            return CompletableFuture.completedFuture(null);
        }
        return tracker.chargeAsync(update(chunk, CallPart.LAST_CHUNK, false, 0, Money.ZERO)).thenApply(outcome -> null);
    }

    /** Whether the stream has ended: finished or closed. */
    public boolean ended() {
        return (state.get() & ENDED) != 0;
    }

    /** The request id whose chunks this stream charges. */
    public String requestId() {
        return requestId;
    }

    /** How many chunk numbers the stream has taken: one per chunk charged, and one for the last once ended. */
    public int chunkCount() {
        int s = state.get();
        return (s & ENDED) != 0 ? (s & ~ENDED) + 1 : s;
    }

    @Override
    public String toString() {
        return "UsageStream[requestId=" + requestId + ", chunks=" + chunkCount() + (ended() ? ", ended" : "") + "]";
    }

    private int takeChunk() {
        while (true) {
            int s = state.get();
            if ((s & ENDED) != 0) {
                throw ended("charge a chunk");
            }
            // the last chunk needs a number of its own, up to Integer.MAX_VALUE
            if (s == Integer.MAX_VALUE) {
                throw new IllegalStateException("usage stream of request " + requestId + ": " + s
                        + " chunks charged, the most a stream can number; finish or close it");
            }
            if (state.compareAndSet(s, s + 1)) {
                return s;
            }
        }
    }

    /** Ends the stream; the last chunk's number. */
    private int end() {
        int chunk = endIfOpen();
        if (chunk < 0) {
            throw ended("finish it");
        }
        return chunk;
    }

    /** Ends the stream if it was open and returns the last chunk's number; -1 when it had ended already. */
    private int endIfOpen() {
        while (true) {
            int s = state.get();
            if ((s & ENDED) != 0) {
                return -1;
            }
            if (state.compareAndSet(s, s | ENDED)) {
                return s;
            }
        }
    }

    private IllegalStateException ended(String what) {
        return new IllegalStateException("usage stream of request " + requestId + " has ended (finished or closed)"
                + " after " + chunkCount() + " chunks: cannot " + what);
    }

    private static void checkUsage(long tokens, Money cost) {
        Checks.notNegative("UsageStream tokens", tokens);
        Objects.requireNonNull(cost, "UsageStream cost");
        if (cost.signum() < 0) {
            throw new IllegalArgumentException("UsageStream cost: " + cost + " must not be negative");
        }
    }

    private UsageUpdate update(int chunk, CallPart part, boolean success, long tokens, Money cost) {
        return UsageUpdate.builder().requestId(requestId).chunk(chunk).part(part).success(success).tokens(tokens)
                .cost(cost).reservation(reservation).build();
    }
}
