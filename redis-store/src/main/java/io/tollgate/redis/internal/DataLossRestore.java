package io.tollgate.redis.internal;

import io.lettuce.core.SetArgs;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.StoreException;
import io.tollgate.Window;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.DataLoss;
import io.tollgate.spi.SnapshotSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * Finds that Redis lost a tag's data, restores it, and says so. Every tag has a data epoch key that every script of
 * the tag reads: when it is missing (a new Redis, {@code FLUSHALL}, a restart without persistence, a Cluster node
 * replaced by an empty one) the scripts change nothing and answer "lost", and {@link #restore()} runs, once at a time
 * whichever callers wait: it finds every tag without an epoch, reads the snapshot source once, raises those tags'
 * counters of current windows to their snapshot values, reports the loss, and sets each tag's epoch to a new value,
 * once ({@code SET NX}: two replicas restoring at once agree on the first one, and a restore that finds the epoch set
 * changes nothing more), before any waiting call runs again.
 *
 * <p>Every reply carries its tag's epoch, and this class remembers the last one seen per tag: a reply with another
 * epoch means the tag lost its data and was restored, by this replica or another. Either way the listeners hear of
 * it once, before the call that showed it completes, so every answer they saw before the report came from the lost
 * data (replies on one connection arrive in the order Redis ran them).
 *
 * <p>Thread-safe. The restore itself blocks (it reads snapshots, perhaps from a database), so it runs on one thread of
 * its own, never on a Lettuce event-loop thread; the thread ends when idle.
 */
public final class DataLossRestore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DataLossRestore.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final int BATCH = 500;
    /** The epoch of a tag while this replica restores it: the loss is reported, the new epoch not yet known. */
    private static final String RESTORING = new String("restoring");

    private final RedisCalls calls;
    private final KeySpace keys;
    private final StoreClock clock;
    private final SnapshotSource source;
    private final long retentionMillis;
    private final ChangeReader changes;
    private final String storeName;
    private final AtomicReferenceArray<String> epochs;
    private final List<Consumer<DataLoss>> listeners = new CopyOnWriteArrayList<>();
    private final ThreadPoolExecutor executor;
    private final AtomicReference<CompletableFuture<Void>> inFlight = new AtomicReference<>();
    private final AtomicLong restores = new AtomicLong();

    public DataLossRestore(RedisCalls calls, KeySpace keys, StoreClock clock, SnapshotSource source,
                           long retentionMillis, ChangeReader changes, String storeName) {
        this.calls = calls;
        this.keys = keys;
        this.clock = clock;
        this.source = source;
        this.retentionMillis = retentionMillis;
        this.changes = changes;
        this.storeName = storeName;
        this.epochs = new AtomicReferenceArray<>(keys.tagCount());
        this.executor = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), task -> {
            Thread thread = new Thread(task, "tollgate-redis-restore-" + THREADS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        executor.allowCoreThreadTimeOut(true);
    }

    /** Tells {@code listener} of every data loss found from now on. */
    public void onDataLoss(Consumer<DataLoss> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * A reply of tag {@code tag} showed {@code epoch}: the first seen is the baseline, another one a loss restored by
     * someone, reported to the listeners at once.
     */
    public void observe(int tag, String epoch) {
        String known = epochs.get(tag);
        if (epoch == null || epoch.equals(known)) {
            return;
        }
        // a tag this replica is restoring was reported by the restore already
        if (epochs.compareAndSet(tag, known, epoch) && known != null && known != RESTORING) {
            report(new int[] {tag}, "restored by another replica");
        }
    }

    /**
     * Reads the epoch of every tag a reply showed before (one pipelined {@code GET} each), but those in
     * {@code skip}: a replica that only answers from its memory of denials, or only reads, still finds a loss within
     * one flush. Restores when a tag has none; blocks, off the hot path.
     */
    public void checkEpochs(boolean[] skip) {
        List<Integer> tags = new ArrayList<>();
        List<CompletableFuture<String>> reads = new ArrayList<>();
        for (int t = 0; t < epochs.length(); t++) {
            if (epochs.get(t) != null && !skip[t]) {
                tags.add(t);
                reads.add(calls.commands().get(keys.tagKeys(t).epoch()).toCompletableFuture());
            }
        }
        boolean lost = false;
        for (int i = 0; i < tags.size(); i++) {
            String epoch = calls.await(reads.get(i), "changes");
            if (epoch == null) {
                lost = true;
            } else {
                observe(tags.get(i), epoch);
            }
        }
        if (lost) {
            calls.await(restore(), "changes");
        }
    }

    /** Completes when a restore that started no earlier than this call has finished. */
    public CompletableFuture<Void> restore() {
        while (true) {
            CompletableFuture<Void> running = inFlight.get();
            if (running != null) {
                return running;
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            if (!inFlight.compareAndSet(null, mine)) {
                continue;
            }
            try {
                executor.execute(() -> {
                    Throwable failure = null;
                    try {
                        restoreLostTags();
                    } catch (Throwable t) {
                        failure = t;
                    }
                    // the next loss starts a new restore, before the callers of this one run again
                    inFlight.compareAndSet(mine, null);
                    if (failure == null) {
                        mine.complete(null);
                    } else {
                        mine.completeExceptionally(failure);
                    }
                });
            } catch (RejectedExecutionException e) {
                inFlight.compareAndSet(mine, null);
                mine.completeExceptionally(new StoreException(RedisCalls.STORE + " is closed", e));
            }
            return mine;
        }
    }

    /**
     * Raises each counter of a window that has not ended by store time to at least its snapshot value, one script call
     * per 500 snapshots of one tag; with {@code onlyWhileLost} nothing changes in a tag whose epoch is set.
     *
     * @return how many counters were raised
     */
    public int raise(Collection<CounterSnapshot> snapshots, boolean onlyWhileLost) {
        Objects.requireNonNull(snapshots, "snapshots");
        Map<Integer, List<CounterSnapshot>> byTag = new TreeMap<>();
        int count = 0;
        for (CounterSnapshot snapshot : snapshots) {
            Objects.requireNonNull(snapshot, "snapshots[" + count + "]");
            count++;
            byTag.computeIfAbsent(keys.tagOf(snapshot.counter().holder()), t -> new ArrayList<>()).add(snapshot);
        }
        List<CompletableFuture<RestoreCall.Reply>> batches = new ArrayList<>();
        for (Map.Entry<Integer, List<CounterSnapshot>> entry : byTag.entrySet()) {
            List<CounterSnapshot> all = entry.getValue();
            for (int from = 0; from < all.size(); from += BATCH) {
                batches.add(raiseBatch(entry.getKey(), all.subList(from, Math.min(all.size(), from + BATCH)),
                        onlyWhileLost));
            }
        }
        int raised = 0;
        for (CompletableFuture<RestoreCall.Reply> batch : batches) {
            raised += calls.await(batch, "restore").raised();
        }
        return raised;
    }

    private CompletableFuture<RestoreCall.Reply> raiseBatch(int tag, List<CounterSnapshot> batch,
                                                             boolean onlyWhileLost) {
        String[] keyArgs = new String[1 + batch.size()];
        String[] args = new String[2 + 3 * batch.size()];
        keyArgs[0] = keys.tagKeys(tag).epoch();
        long guess = clock.guess();
        args[0] = clock.timeArg(guess);
        args[1] = onlyWhileLost ? "1" : "";
        for (int i = 0; i < batch.size(); i++) {
            CounterSnapshot snapshot = batch.get(i);
            Window window = snapshot.window();
            String key = keys.counterKey(snapshot.counter(), window.startMillis());
            keyArgs[1 + i] = key;
            boolean forever = window.isUnbounded() || window.endMillis() >= (1L << 52) - retentionMillis;
            args[2 + 3 * i] = Long.toString(snapshot.value());
            args[3 + 3 * i] = forever ? "" : Long.toString(window.endMillis());
            args[4 + 3 * i] = forever ? "" : Long.toString(window.endMillis() + retentionMillis);
            changes.touch(key, snapshot.counter(), window);
        }
        return calls.script(LuaScript.RESTORE, keyArgs, args, RestoreCall.Output::new, "restore");
    }

    /** On the restore thread: every tag without an epoch is restored, then given its new epoch. */
    private void restoreLostTags() {
        String operation = "restore";
        int tagCount = keys.tagCount();
        List<CompletableFuture<Long>> present = new ArrayList<>(tagCount);
        for (int t = 0; t < tagCount; t++) {
            present.add(calls.commands().exists(keys.tagKeys(t).epoch()).toCompletableFuture());
        }
        List<Integer> lost = new ArrayList<>();
        for (int t = 0; t < tagCount; t++) {
            if (calls.await(present.get(t), operation) == 0) {
                lost.add(t);
            }
        }
        if (lost.isEmpty()) {
            // a restore that finished meanwhile (this replica's or another's) covered this loss
            return;
        }
        restores.incrementAndGet();
        long now = clock.guess();
        int offered = 0;
        int raised = 0;
        if (source != null) {
            List<CounterSnapshot> snapshots = source.currentSnapshots(Instant.ofEpochMilli(now));
            boolean[] isLost = new boolean[tagCount];
            lost.forEach(t -> isLost[t] = true);
            List<CounterSnapshot> mine = new ArrayList<>();
            if (snapshots != null) {
                for (CounterSnapshot snapshot : snapshots) {
                    // requests in flight live with their leases, which the loss took: they start again at zero
                    if (snapshot != null && isLost[keys.tagOf(snapshot.counter().holder())]
                            && snapshot.counter().metric() != Metric.IN_FLIGHT) {
                        mine.add(snapshot);
                    }
                }
            }
            offered = mine.size();
            raised = raise(mine, true);
        }
        // Reported before any epoch is set: until then no call of this replica is answered from the restored data,
        // so every answer the listeners saw came from the lost data. A tag whose new epoch a reply already showed
        // (another replica restored it first) was reported then.
        List<Integer> unreported = new ArrayList<>(lost.size());
        for (int t : lost) {
            String known = epochs.get(t);
            if (known != RESTORING && epochs.compareAndSet(t, known, RESTORING)) {
                unreported.add(t);
            }
        }
        report(unreported.stream().mapToInt(Integer::intValue).toArray(), "restored here");
        String epoch = Long.toString(now, 36) + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        List<CompletableFuture<String>> writes = new ArrayList<>(lost.size());
        for (int t : lost) {
            writes.add(calls.commands().setGet(keys.tagKeys(t).epoch(), epoch, SetArgs.Builder.nx())
                    .toCompletableFuture());
        }
        for (int i = 0; i < lost.size(); i++) {
            String earlier = calls.await(writes.get(i), operation);
            // another replica's restore set the epoch first: that one stands for this loss
            epochs.set(lost.get(i), earlier != null ? earlier : epoch);
        }
        String scope = scope(lost.size());
        if (source == null) {
            LOG.info("Redis store '{}': no data epoch in {} (new or emptied); no snapshot source is configured, so "
                    + "counters go on from what Redis holds", storeName, scope);
        } else {
            LOG.info("Redis store '{}': no data epoch in {} (new or emptied); restored {} counters from {} snapshots "
                    + "before trusting it", storeName, scope, raised, offered);
        }
    }

    private String scope(int lost) {
        return keys.clustered() ? lost + " of " + keys.tagCount() + " hash tags" : "Redis";
    }

    private void report(int[] lostTags, String how) {
        if (listeners.isEmpty() || lostTags.length == 0) {
            return;
        }
        boolean[] isLost = new boolean[keys.tagCount()];
        for (int tag : lostTags) {
            isLost[tag] = true;
        }
        Instant at = Instant.ofEpochMilli(clock.guess());
        String scope = scope(lostTags.length) + ", " + how;
        DataLoss loss = new DataLoss() {
            @Override
            public boolean affects(Limit limit) {
                return isLost[keys.tagOf(limit.holder())];
            }

            @Override
            public Instant detectedAt() {
                return at;
            }

            @Override
            public String scope() {
                return scope;
            }

            @Override
            public String toString() {
                return "DataLoss[" + scope + " at " + at + "]";
            }
        };
        for (Consumer<DataLoss> listener : listeners) {
            try {
                listener.accept(loss);
            } catch (RuntimeException e) {
                LOG.warn("Redis store '{}': a data loss listener failed", storeName, e);
            }
        }
    }

    /** Restores of lost tags this replica ran. */
    public long restores() {
        return restores.get();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
