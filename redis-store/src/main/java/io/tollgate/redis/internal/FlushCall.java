package io.tollgate.redis.internal;

import java.nio.ByteBuffer;

/** The keys of {@code flush.lua} for counters of one tag, and its reply. */
final class FlushCall {

    private FlushCall() {
    }

    static String[] keys(KeySpace.TagKeys tagKeys, String[] counterKeys) {
        String[] keys = new String[2 + counterKeys.length];
        keys[0] = tagKeys.epoch();
        keys[1] = tagKeys.version();
        System.arraycopy(counterKeys, 0, keys, 2, counterKeys.length);
        return keys;
    }

    /**
     * The reply: 1 read, -1 the data was lost; the store time; the data epoch; the version of the values; each value,
     * or -1 for a counter that is gone.
     */
    record Reply(int status, long now, String epoch, long version, long[] values) {
    }

    /** Reads {@code {1, now, epoch, version, value_1 .. value_n}} or {@code {-1, now}}. Not thread-safe. */
    static final class Output extends ScriptOutput<Reply> {
        private int status;
        private long now;
        private String epoch;
        private long version;
        private final long[] values;

        Output(int n) {
            this.values = new long[n];
        }

        @Override
        void integer(int position, long value) {
            if (position == 0) {
                status = (int) value;
            } else if (position == 1) {
                now = value;
            } else if (position == 3) {
                version = value;
            }
        }

        @Override
        void text(int position, ByteBuffer bytes) {
            if (position == 2) {
                epoch = string(bytes);
            } else {
                values[position - 4] = bytes == null ? -1 : decimal(bytes);
            }
        }

        @Override
        Reply result() {
            return new Reply(status, now, epoch, version, values);
        }
    }
}
