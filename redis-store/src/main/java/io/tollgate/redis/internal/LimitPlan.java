package io.tollgate.redis.internal;

import io.tollgate.Limit;
import io.tollgate.Window;
import io.tollgate.WindowSpec;

import java.util.List;

/**
 * What the scripts need of one limit, computed once: its counter key base, its maximum, and for the window the local
 * clock expects, that window's full key and the window arguments.
 *
 * <p>Window arguments, read by the scripts' {@code window()}:
 * <ul>
 *   <li>{@code f anchor length guess}: fixed-length rolling windows, computed in the script from Redis time. The
 *       anchor is reduced modulo the length so that every number stays well inside the 2^53 that Lua doubles hold
 *       exactly.</li>
 *   <li>{@code u}: unbounded, one window from 0 that never ends.</li>
 *   <li>{@code c n b1 .. bn guess}: calendar and month-based layouts, whose zone and month rules live in Java: n
 *       contiguous boundaries around the local clock's time; the script takes the window that holds Redis time.</li>
 * </ul>
 * {@code guess} is the start of the window the local clock expects, whose full key is sent: when Redis time agrees
 * (nearly always), the script uses that key as it is and builds no string.
 *
 * <p>Thread-safe: the expected window is one immutable value in a volatile field, replaced by whichever thread first
 * sees the local clock leave it (every thread computes the same value).
 */
public final class LimitPlan {

    /** Beyond this length arithmetic windows move to the candidate path, so Lua never rounds a window start. */
    private static final long MAX_SCRIPT_LENGTH = 1L << 50;
    private static final int CANDIDATES_BEFORE = 2;
    private static final int CANDIDATES_AFTER = 2;

    private final Limit limit;
    private final WindowSpec spec;
    private final String keyBase;
    private final int tag;
    private final Object placementVersion;
    private final String maxArg;
    private final String anchorArg;
    private final String lengthArg;
    private volatile Expected expected;

    /** A plan of the standalone layout: tag 0, no placement. */
    LimitPlan(Limit limit, String keyBase) {
        this(limit, keyBase, 0, null);
    }

    LimitPlan(Limit limit, String keyBase, int tag, Object placementVersion) {
        this.limit = limit;
        this.spec = limit.window();
        this.keyBase = keyBase;
        this.tag = tag;
        this.placementVersion = placementVersion;
        this.maxArg = Long.toString(limit.max());
        if (spec.isFixedLength() && spec.fixedLengthMillis() <= MAX_SCRIPT_LENGTH) {
            long length = spec.fixedLengthMillis();
            anchorArg = Long.toString(Math.floorMod(spec.anchorMillis(), length));
            lengthArg = Long.toString(length);
        } else {
            anchorArg = null;
            lengthArg = null;
        }
        if (spec.alignment() == WindowSpec.Alignment.UNBOUNDED) {
            Window forever = spec.windowAt(0);
            expected = new Expected(forever, keyBase + ":0", new String[] {"u"});
        }
    }

    public Limit limit() {
        return limit;
    }

    /** The window layout. */
    public WindowSpec spec() {
        return spec;
    }

    /** The counter key without its window start. */
    public String keyBase() {
        return keyBase;
    }

    /** The hash tag of the counter's keys (see {@link KeySpace#tagOf}). */
    public int tag() {
        return tag;
    }

    /** The placement version the key was built with (see {@link PlanCache}). */
    Object placementVersion() {
        return placementVersion;
    }

    /** The full key of the window starting at {@code start}. */
    public String key(long start) {
        Expected current = expected;
        if (current != null && current.window.startMillis() == start) {
            return current.key;
        }
        return keyBase + ':' + start;
    }

    /** The maximum as a script argument. */
    public String maxArg() {
        return maxArg;
    }

    /** The window that holds {@code localMillis}, with its key and window arguments; cached while it lasts. */
    public Expected expected(long localMillis) {
        Expected current = expected;
        if (current == null || !current.window.contains(localMillis)) {
            current = compute(localMillis);
            expected = current;
        }
        return current;
    }

    /**
     * The window that starts at {@code start}, as the script reported it.
     *
     * @throws IllegalStateException if no window of the layout starts there
     */
    public Window windowStartingAt(long start) {
        Expected current = expected;
        if (current != null && current.window.startMillis() == start) {
            return current.window;
        }
        Window window = spec.windowAt(start);
        if (window.startMillis() != start) {
            throw new IllegalStateException("no window of " + spec.id() + " starts at " + start);
        }
        return window;
    }

    private Expected compute(long millis) {
        Window window = spec.windowAt(millis);
        String start = Long.toString(window.startMillis());
        String key = keyBase + ':' + start;
        if (anchorArg != null) {
            return new Expected(window, key, new String[] {"f", anchorArg, lengthArg, start});
        }
        List<Window> windows = spec.windowsAround(millis, CANDIDATES_BEFORE, CANDIDATES_AFTER);
        int n = windows.size() + 1;
        String[] args = new String[n + 3];
        args[0] = "c";
        args[1] = Integer.toString(n);
        for (int i = 0; i < windows.size(); i++) {
            args[i + 2] = Long.toString(windows.get(i).startMillis());
        }
        args[n + 1] = Long.toString(windows.get(windows.size() - 1).endMillis());
        args[n + 2] = start;
        return new Expected(window, key, args);
    }

    /**
     * The window a local clock expects, its full counter key, and the window arguments that let the script confirm it
     * or find the right one. Immutable in practice (the arguments array is never written after construction) and
     * thread-safe.
     */
    public record Expected(Window window, String key, String[] args) {
    }
}
