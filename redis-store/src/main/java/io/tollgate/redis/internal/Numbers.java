package io.tollgate.redis.internal;

/** Number formatting for script arguments, without allocating for the common small values. Thread-safe. */
public final class Numbers {

    private static final String[] SMALL = new String[1024];

    static {
        for (int i = 0; i < SMALL.length; i++) {
            SMALL[i] = Integer.toString(i);
        }
    }

    private Numbers() {
    }

    public static String text(long value) {
        return value >= 0 && value < SMALL.length ? SMALL[(int) value] : Long.toString(value);
    }
}
