package io.tollgate.redis.internal;

import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.CommandOutput;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Reads the reply of {@code charges.lua}, an array of one reply per charge, handing each nested reply to that charge's
 * own reader as if it had come alone, keeping the message of a charge that failed ({@code {-3, message}}) and noting
 * the charges sent back, to go again ({@code {-4}}).
 *
 * <p>Not thread-safe: Lettuce feeds one output from one event-loop thread.
 */
final class ChargeBatchOutput extends CommandOutput<String, String, ChargeBatchOutput> {

    private static final long FAILED = -3;
    private static final long SENT_BACK = -4;

    private final List<ChargeCall.Output> parts;
    private final String[] failures;
    private final boolean[] sentBack;
    private boolean started;
    private int part = -1;
    private boolean firstElement;

    ChargeBatchOutput(List<ChargeCall.Output> parts) {
        super(StringCodec.UTF8, null);
        this.parts = parts;
        this.failures = new String[parts.size()];
        this.sentBack = new boolean[parts.size()];
    }

    /** The reader of charge {@code i}. */
    ChargeCall.Output part(int i) {
        return parts.get(i);
    }

    /** Whether charge {@code i} was not applied and is to be sent again. */
    boolean sentBack(int i) {
        return sentBack[i];
    }

    /** The error message of charge {@code i}, or null if it did not fail. */
    String failure(int i) {
        return failures[i];
    }

    @Override
    public void multi(int count) {
        // the batch's own array, then one flat array per charge
        if (!started) {
            started = true;
            return;
        }
        part++;
        firstElement = true;
    }

    @Override
    public void set(long integer) {
        if (firstElement && integer == FAILED) {
            failures[part] = "";
        } else if (firstElement && integer == SENT_BACK) {
            sentBack[part] = true;
        } else if (failures[part] == null) {
            parts.get(part).set(integer);
        }
        firstElement = false;
    }

    @Override
    public void set(ByteBuffer bytes) {
        if (failures[part] != null) {
            failures[part] = ScriptOutput.string(bytes);
        } else {
            parts.get(part).set(bytes);
        }
        firstElement = false;
    }

    @Override
    public void setSingle(ByteBuffer bytes) {
        set(bytes);
    }

    @Override
    public ChargeBatchOutput get() {
        return hasError() ? null : this;
    }
}
