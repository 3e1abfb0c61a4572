package io.tollgate;

import io.tollgate.internal.Checks;

import java.util.Objects;

/**
 * The identity of one counter: holder, metric and the {@linkplain WindowSpec#id() window layout}. Each window of
 * the layout has its own value.
 *
 * <p>Immutable and thread-safe.
 */
public record CounterId(Holder holder, Metric metric, String windowId) {

    public CounterId {
        Objects.requireNonNull(holder, "CounterId.holder");
        Objects.requireNonNull(metric, "CounterId.metric");
        Checks.notBlank("CounterId.windowId", windowId);
    }

    @Override
    public String toString() {
        return holder + "/" + metric + "/" + windowId;
    }
}
