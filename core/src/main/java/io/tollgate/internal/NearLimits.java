package io.tollgate.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.tollgate.CounterId;

import java.util.concurrent.ConcurrentMap;

/**
 * Which counters and windows have been reported near their limit, so that each is reported once. Bounded: a counter
 * forgotten to make room for others (after {@value #MAX_REMEMBERED} more recent ones) may be reported again in the
 * same window, which costs a repeated warning and nothing else.
 *
 * <p>Thread-safe.
 */
public final class NearLimits {

    /** Per-user limits can come in millions; the busy counters are the recent ones. */
    public static final int MAX_REMEMBERED = 65_536;

    private final double ratio;
    private final ConcurrentMap<Key, Boolean> reported;

    public NearLimits(double ratio) {
        this.ratio = ratio;
        Cache<Key, Boolean> cache = Caffeine.newBuilder().maximumSize(MAX_REMEMBERED).build();
        this.reported = cache.asMap();
    }

    public double ratio() {
        return ratio;
    }

    /**
     * Whether a counter at {@code used} has reached the ratio of {@code max} and was not reported yet in the window
     * starting at {@code windowStart}; if so, it is from now on.
     */
    public boolean firstReached(CounterId counter, long windowStart, long used, long max) {
        // ratio is in (0, 1]: the threshold lies in [1, max], a count that reaches it is a whole number
        double threshold = Math.ceil(ratio * max);
        return used >= threshold && reported.putIfAbsent(new Key(counter, windowStart), Boolean.TRUE) == null;
    }

    private record Key(CounterId counter, long windowStart) {
    }
}
