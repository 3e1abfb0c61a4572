package io.tollgate.redis.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Texts of a script call (its keys, or a run of its arguments) encoded once as they go over the wire: RESP bulk
 * strings, {@code $<length>\r\n<UTF-8>\r\n} each. The keys and most arguments of a request shape are the same from
 * call to call, so a call made of parts kept from earlier calls costs a copy of their bytes, not an encoding of every
 * text on Lettuce's event loop.
 *
 * <p>Immutable and thread-safe.
 */
public final class Bulk {

    static final Bulk EMPTY = of();

    private final byte[] bytes;
    private final int count;
    /** The first text's UTF-8 bytes (Redis Cluster routes a call by its first key), or null when there is none. */
    private final byte[] first;

    private Bulk(byte[] bytes, int count, byte[] first) {
        this.bytes = bytes;
        this.count = count;
        this.first = first;
    }

    /** {@code texts}, each as one bulk string. */
    public static Bulk of(String... texts) {
        return of(texts, 0, texts.length);
    }

    /** {@code texts[from]} to {@code texts[to - 1]}, each as one bulk string. */
    public static Bulk of(String[] texts, int from, int to) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * (to - from));
        byte[] first = null;
        for (int i = from; i < to; i++) {
            byte[] utf8 = texts[i].getBytes(StandardCharsets.UTF_8);
            first = first == null ? utf8 : first;
            out.write('$');
            writeDecimal(out, utf8.length);
            out.write('\r');
            out.write('\n');
            out.writeBytes(utf8);
            out.write('\r');
            out.write('\n');
        }
        return new Bulk(out.toByteArray(), to - from, first);
    }

    private static void writeDecimal(ByteArrayOutputStream out, int value) {
        if (value >= 10) {
            writeDecimal(out, value / 10);
        }
        out.write('0' + value % 10);
    }

    /** How many texts. */
    public int count() {
        return count;
    }

    /** The encoded texts; not to be changed. */
    byte[] bytes() {
        return bytes;
    }

    /** The first text's UTF-8 bytes, or null when there is none; not to be changed. */
    byte[] first() {
        return first;
    }
}
