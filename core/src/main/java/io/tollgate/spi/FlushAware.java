package io.tollgate.spi;

/**
 * A store that wants to know which of its changes are persisted: a snapshot flusher tells it, right after each
 * successful write, the sequence number of the last {@link GovernanceStore#changes()} batch it wrote (every earlier
 * batch included). A resilient decorator uses it to keep, until then, the usage it would have to replay should its
 * primary lose its data.
 *
 * <p>Implementations must be thread-safe and must not block: the flusher calls from its own thread.
 */
public interface FlushAware {

    /** Every batch of {@link GovernanceStore#changes()} up to {@code sequence} is now persisted. */
    void flushed(long sequence);
}
