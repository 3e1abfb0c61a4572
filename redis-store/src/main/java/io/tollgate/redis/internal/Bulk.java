package io.tollgate.redis.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
        Encoder out = new Encoder(64 * (to - from));
        byte[] first = null;
        for (int i = from; i < to; i++) {
            byte[] utf8 = texts[i].getBytes(StandardCharsets.UTF_8);
            first = first == null ? utf8 : first;
            out.bulk(utf8);
        }
        return new Bulk(out.bytes(), to - from, first);
    }

    /** {@code values} as decimal texts, each as one bulk string. */
    static Bulk ofDecimals(long[] values) {
        Encoder out = new Encoder(24 * values.length);
        for (long value : values) {
            out.bulk(Long.toString(value).getBytes(StandardCharsets.US_ASCII));
        }
        return new Bulk(out.bytes(), values.length, null);
    }

    /** A growing byte array without the locks of {@code ByteArrayOutputStream}: a call encodes on one thread. */
    private static final class Encoder {
        private byte[] bytes;
        private int size;

        Encoder(int capacity) {
            bytes = new byte[Math.max(capacity, 16)];
        }

        void bulk(byte[] utf8) {
            ensure(utf8.length + 16);
            bytes[size++] = '$';
            size = decimal(utf8.length);
            bytes[size++] = '\r';
            bytes[size++] = '\n';
            System.arraycopy(utf8, 0, bytes, size, utf8.length);
            size += utf8.length;
            bytes[size++] = '\r';
            bytes[size++] = '\n';
        }

        private int decimal(int value) {
            int digits = 1;
            for (int rest = value; rest >= 10; rest /= 10) {
                digits++;
            }
            for (int i = size + digits - 1; i >= size; i--) {
                bytes[i] = (byte) ('0' + value % 10);
                value /= 10;
            }
            return size + digits;
        }

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
            }
        }

        byte[] bytes() {
            return size == bytes.length ? bytes : Arrays.copyOf(bytes, size);
        }
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
