package io.tollgate.redis.internal;

import java.nio.ByteBuffer;

/** The arguments of {@code read.lua} for one slot group, and its reply. */
final class ReadCall {

    private ReadCall() {
    }

    static String[] args(SlotGroup.Windows windows, String timeArg) {
        return new String[] {timeArg, windows.loArg(), windows.hiArg()};
    }

    /** The reply: 1 read, -2 the store time lay outside the windows sent; the store time; the values. */
    record Reply(int status, long now, long[] used) {
    }

    /** Reads {@code {status, now, used_1 .. used_n}}. Not thread-safe. */
    static final class Output extends ScriptOutput<Reply> {
        private int status;
        private long now;
        private final long[] used;

        Output(int n) {
            this.used = new long[n];
        }

        @Override
        void integer(int position, long value) {
            if (position == 0) {
                status = (int) value;
            } else if (position == 1) {
                now = value;
            }
        }

        @Override
        void text(int position, ByteBuffer bytes) {
            used[position - 2] = decimal(bytes);
        }

        @Override
        Reply result() {
            return new Reply(status, now, used);
        }
    }
}
