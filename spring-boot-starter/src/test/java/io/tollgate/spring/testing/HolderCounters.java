package io.tollgate.spring.testing;

import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spring.TollgateConfigSource;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A holder's counter as a running application's store holds it, for tests of the filters: charges are sent after
 * the answer without anyone waiting, so a test waits for them to land.
 *
 * <p>Thread-safe: stateless.
 */
public final class HolderCounters {

    private HolderCounters() {
    }

    /** What {@code holder}'s {@code metric} counter holds now. */
    public static long used(GovernanceStore store, TollgateConfigSource config, Holder holder, Metric metric) {
        Limit limit = config.get().limitsOf(holder).stream().filter(candidate -> candidate.metric() == metric)
                .findFirst().orElseThrow(() -> new AssertionError(holder + " has no " + metric + " limit"));
        return store.read(List.of(limit)).toCompletableFuture().join().get(0).used();
    }

    /** Waits up to 10 seconds for the counter to hold {@code expected}, then asserts that it does. */
    public static void awaitUsed(GovernanceStore store, TollgateConfigSource config, Holder holder, Metric metric,
                                 long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (used(store, config, holder, metric) != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(used(store, config, holder, metric)).as("%s of %s", metric, holder).isEqualTo(expected);
    }
}
