package io.tollgate.jdbc.internal;

import java.time.Duration;

/**
 * Exponential delays between retries: {@code initial}, twice that, and so on up to {@code max}.
 *
 * <p>Not thread-safe; used by one scheduling thread.
 */
public final class Backoff {

    private final long initialMillis;
    private final long maxMillis;
    private long nextMillis;

    public Backoff(Duration initial, Duration max) {
        this.initialMillis = initial.toMillis();
        this.maxMillis = max.toMillis();
        this.nextMillis = initialMillis;
    }

    /** The delay before the next retry; each call doubles the following one, up to the maximum. */
    public long nextDelayMillis() {
        long delay = nextMillis;
        nextMillis = Math.min(maxMillis, nextMillis * 2);
        return delay;
    }

    public void reset() {
        nextMillis = initialMillis;
    }
}
