package io.tollgate.redis.internal;

import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The arguments of one {@code EVALSHA} (or {@code EVAL}): the script's digest (or source), the number of keys, the
 * keys, then the arguments, the keys and the arguments as {@link Bulk} parts that are written by copying their bytes. Lettuce asks
 * a command's arguments for their count, their encoding, and (on Redis Cluster) their first key, nothing else.
 *
 * <p>Immutable and thread-safe: Lettuce may encode a command again, after a reconnect.
 */
final class ScriptArgs extends CommandArgs<String, String> {

    private final byte[] script;
    private final Bulk[] keys;
    private final Bulk[] args;
    private final int keyCount;
    private final int count;

    ScriptArgs(String scriptOrSha, Bulk[] keys, Bulk[] args) {
        super(StringCodec.UTF8);
        this.script = scriptOrSha.getBytes(StandardCharsets.UTF_8);
        this.keys = keys;
        this.args = args;
        this.keyCount = count(keys);
        this.count = 2 + keyCount + count(args);
    }

    private static int count(Bulk[] parts) {
        int total = 0;
        for (Bulk part : parts) {
            total += part.count();
        }
        return total;
    }

    @Override
    public int count() {
        return count;
    }

    @Override
    public ByteBuffer getFirstEncodedKey() {
        for (Bulk part : keys) {
            if (part.first() != null) {
                return ByteBuffer.wrap(part.first()).asReadOnlyBuffer();
            }
        }
        return null;
    }

    @Override
    public void encode(ByteBuf buf) {
        writeBulk(buf, script);
        writeBulk(buf, Integer.toString(keyCount).getBytes(StandardCharsets.US_ASCII));
        for (Bulk part : keys) {
            buf.writeBytes(part.bytes());
        }
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
        int argCount = count - 2 - keyCount;
        return new String(script, StandardCharsets.UTF_8) + " <" + keyCount + " keys> <" + argCount
                + " arguments>";
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " [" + toCommandString() + "]";
    }
}
