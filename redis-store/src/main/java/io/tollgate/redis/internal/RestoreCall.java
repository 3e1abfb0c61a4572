package io.tollgate.redis.internal;

import java.nio.ByteBuffer;

/** The reply of {@code restore.lua}: the store time and how many counters were raised. */
final class RestoreCall {

    private RestoreCall() {
    }

    record Reply(long now, int raised) {
    }

    /** Reads {@code {now, raised}}. Not thread-safe. */
    static final class Output extends ScriptOutput<Reply> {
        private long now;
        private int raised;

        @Override
        void integer(int position, long value) {
            if (position == 0) {
                now = value;
            } else {
                raised = (int) value;
            }
        }

        @Override
        void text(int position, ByteBuffer bytes) {
            // the reply has numbers only
        }

        @Override
        Reply result() {
            return new Reply(now, raised);
        }
    }
}
