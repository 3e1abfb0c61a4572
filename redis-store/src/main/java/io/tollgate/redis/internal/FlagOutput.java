package io.tollgate.redis.internal;

import java.nio.ByteBuffer;

/** Reads the {@code {1}} or {@code {0}} reply of {@code release.lua} and {@code extend.lua}. Not thread-safe. */
final class FlagOutput extends ScriptOutput<Boolean> {

    private boolean flag;

    @Override
    void integer(int position, long value) {
        if (position == 0) {
            flag = value == 1;
        }
    }

    @Override
    void text(int position, ByteBuffer bytes) {
        // the reply has numbers only
    }

    @Override
    Boolean result() {
        return flag;
    }
}
