package io.tollgate.redis.internal;

import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.CommandOutput;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads a script's reply, a flat array, element by element as Lettuce decodes it, into the typed result of one
 * script: no list of objects, no text for a number. A subclass sees each element with its position from 0.
 *
 * <p>Not thread-safe: Lettuce feeds one output from one event-loop thread.
 *
 * @param <T> the typed reply
 */
abstract class ScriptOutput<T> extends CommandOutput<String, String, T> {

    private int position;

    ScriptOutput() {
        super(StringCodec.UTF8, null);
    }

    /** An integer element. */
    abstract void integer(int position, long value);

    /** A text element (a counter value, an epoch, a key); null for Lua's false. */
    abstract void text(int position, ByteBuffer bytes);

    /** The typed reply, once every element was seen. */
    abstract T result();

    @Override
    public final void set(long integer) {
        integer(position++, integer);
    }

    @Override
    public final void set(ByteBuffer bytes) {
        text(position++, bytes);
    }

    @Override
    public final void setSingle(ByteBuffer bytes) {
        text(position++, bytes);
    }

    @Override
    public final void multi(int count) {
        // the reply is one flat array: its elements are counted by position
    }

    /** Called once Lettuce completes the command; null after an error reply. */
    @Override
    public final T get() {
        if (output == null && !hasError()) {
            output = result();
        }
        return output;
    }

    /** A decimal counter value as a {@code long}, without building its text. */
    static long decimal(ByteBuffer bytes) {
        long value = 0;
        for (int i = bytes.position(); i < bytes.limit(); i++) {
            value = value * 10 + (bytes.get(i) - '0');
        }
        return value;
    }

    static String string(ByteBuffer bytes) {
        return bytes == null ? null : StandardCharsets.UTF_8.decode(bytes).toString();
    }
}
