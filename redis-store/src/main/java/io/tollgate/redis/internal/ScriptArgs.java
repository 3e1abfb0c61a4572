package io.tollgate.redis.internal;

import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The arguments of one {@code EVALSHA} (or {@code EVAL}): the script's digest (or source), the number of keys, the
 * keys, then the arguments, the last three as {@link Bulk} parts that are written by copying their bytes. Lettuce asks
 * a command's arguments for their count, their encoding, and (on Redis Cluster) their first key, nothing else.
 *
 * <p>Immutable and thread-safe: Lettuce may encode a command again, after a reconnect.
 */
final class ScriptArgs extends CommandArgs<String, String> {

    private final byte[] script;
    private final Bulk keys;
    private final Bulk[] args;
    private final int count;

    ScriptArgs(String scriptOrSha, Bulk keys, Bulk... args) {
        super(StringCodec.UTF8);
        this.script = scriptOrSha.getBytes(StandardCharsets.UTF_8);
        this.keys = keys;
        this.args = args;
        int total = 2 + keys.count();
        for (Bulk part : args) {
            total += part.count();
        }
        this.count = total;
    }

    @Override
    public int count() {
        return count;
    }

    @Override
    public ByteBuffer getFirstEncodedKey() {
        byte[] first = keys.first();
        return first == null ? null : ByteBuffer.wrap(first).asReadOnlyBuffer();
    }

    @Override
    public void encode(ByteBuf buf) {
        writeBulk(buf, script);
        writeBulk(buf, Integer.toString(keys.count()).getBytes(StandardCharsets.US_ASCII));
        buf.writeBytes(keys.bytes());
        for (Bulk part : args) {
            buf.writeBytes(part.bytes());
        }
    }

    private static void writeBulk(ByteBuf buf, byte[] bytes) {
        buf.writeByte('$');
        buf.writeCharSequence(Integer.toString(bytes.length), StandardCharsets.US_ASCII);
        buf.writeByte('\r').writeByte('\n');
        buf.writeBytes(bytes);
        buf.writeByte('\r').writeByte('\n');
    }

    @Override
    public String toCommandString() {
        // what Lettuce's debug logging shows: the script and the sizes, never a key or an argument
        int argCount = count - 2 - keys.count();
        return new String(script, StandardCharsets.UTF_8) + " <" + keys.count() + " keys> <" + argCount
                + " arguments>";
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " [" + toCommandString() + "]";
    }
}
