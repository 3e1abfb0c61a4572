package io.tollgate.redis.internal;

import io.tollgate.Limit;
import io.tollgate.Window;

/**
 * What the scripts need of one limit, computed once: its counter key without the window start, its tag, and for the
 * window that holds the store time the caller guessed, that window, its full key and when a counter of it expires.
 *
 * <p>Thread-safe: the expected window is one immutable value in a volatile field, replaced by whichever thread first
 * sees the guess leave it (every thread computes the same value).
 */
public final class LimitPlan {

    /** Expiries at or past this are beyond what the scripts compute exactly: such counters never expire. */
    private static final long SCRIPT_TIME_LIMIT = 1L << 52;

    private final Limit limit;
    private final String keyBase;
    private final int tag;
    private final long retentionMillis;
    private volatile Expected expected;
    /** The last denial of this limit's counter that this replica remembers; see {@link DenialCache}. */
    volatile Denial denial;

    LimitPlan(Limit limit, String keyBase, int tag, long retentionMillis) {
        this.limit = limit;
        this.keyBase = keyBase;
        this.tag = tag;
        this.retentionMillis = retentionMillis;
    }

    public Limit limit() {
        return limit;
    }

    /** The counter key without its window start. */
    public String keyBase() {
        return keyBase;
    }

    /** The hash tag of the counter's keys (see {@link KeySpace#tagOf}). */
    public int tag() {
        return tag;
    }

    /** The window that holds {@code storeMillis}, with its key; cached while it lasts. */
    public Expected expected(long storeMillis) {
        Expected current = expected;
        if (current == null || !current.window.contains(storeMillis)) {
            Window window = limit.window().windowAt(storeMillis);
            current = new Expected(window, keyBase + ':' + window.startMillis(), expiry(window));
            expected = current;
        }
        return current;
    }

    /** The key of the window starting at {@code start}. */
    public String key(long start) {
        Expected current = expected;
        return current != null && current.window.startMillis() == start ? current.key : keyBase + ':' + start;
    }

    /** When a counter of {@code window} expires, in store time: its end and the retention; '' for never. */
    private String expiry(Window window) {
        if (window.isUnbounded() || window.endMillis() >= SCRIPT_TIME_LIMIT - retentionMillis) {
            return "";
        }
        return Long.toString(window.endMillis() + retentionMillis);
    }

    /**
     * A counter found without room: its window, its value then, until when (store time) the denial stands, and the
     * cache generation it belongs to. Immutable and thread-safe.
     */
    record Denial(long windowStart, long used, long until, long generation) {
    }

    /**
     * A window as the caller expects it, its full counter key, and when a counter of it expires ('' for never).
     * Immutable and thread-safe.
     */
    public record Expected(Window window, String key, String expiry) {
    }
}
