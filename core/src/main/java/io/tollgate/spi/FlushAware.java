package io.tollgate.spi;

/**
 * A store that wants to know which of its changes are persisted: a snapshot flusher tells it, right after each
 * successful write, the mark up to which the {@link GovernanceStore#changesSince} batches it wrote reach. A resilient
 * decorator uses it to keep, until then, the usage it would have to replay should its primary lose its data.
 *
 * <p>Implementations must be thread-safe and must not block: the flusher calls from its own thread.
 */
public interface FlushAware {

    /**
     * Every change that {@link GovernanceStore#changesSince} reported up to {@code mark} (the
     * {@link ChangeBatch#nextMark()} of a batch, as passed to the next call) is now persisted.
     */
    void flushed(long mark);
}
