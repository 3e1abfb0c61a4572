package io.tollgate.redis.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.SetArgs;
import io.tollgate.CounterId;
import io.tollgate.Metric;
import io.tollgate.StoreException;
import io.tollgate.Window;
import io.tollgate.WindowSpec;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.CounterSnapshot;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the snapshot flusher reads: the counters this replica changed, and now and then every counter in Redis.
 *
 * <ul>
 *   <li><b>Touched counters.</b> Each call marks the counter keys it changed, once per flush for a slot group whose
 *       windows did not roll (one comparison on the hot path), so the scripts keep no change log. {@link #changes()}
 *       takes the marked keys and reads their values in one {@code flush.lua} call per tag and 1,000 keys, with a
 *       version from the tag's own sequence, read at the same instant as the values: of two reads of one counter the
 *       later has the higher version, whichever replica made it, so the snapshots keep the latest value (a given-back
 *       estimate does not survive in them). A key marked while a flush reads is read again by the next one.</li>
 *   <li><b>The sweep.</b> A replica that dies before its flush takes its marks with it. So every
 *       {@code sweepInterval} one replica of the fleet (whichever first takes a short lock in Redis) also reads every
 *       counter key it finds with {@code SCAN}, and reports those whose value changed since it last swept them. What
 *       a dead replica counted thus reaches the snapshots within one sweep interval, as long as its counters live
 *       (they outlive their window by at least that long).</li>
 *   <li><b>Data epochs.</b> Each read also looks at the data epoch of every tag this replica has used and did not
 *       read this time, so that a loss is found within one flush even by a replica that only answered from its
 *       memory of denials.</li>
 * </ul>
 *
 * <p>Thread-safe; {@link #changes()} is called by one flusher at a time.
 */
public final class ChangeReader {

    private static final int BATCH = 1_000;
    private static final int SWEEP_MEMORY = 1_000_000;

    private final RedisCalls calls;
    private final KeySpace keys;
    private final StoreClock clock;
    private final long sweepMillis;
    private final String storeId;
    private final Map<String, Touched> touched = new ConcurrentHashMap<>();
    /** Values the last sweeps found, so that a sweep reports what changed only. */
    private final Cache<String, Long> swept = Caffeine.newBuilder().maximumSize(SWEEP_MEMORY).build();
    private final Map<String, WindowSpec> specs = new ConcurrentHashMap<>();
    private volatile long generation;
    private long sequence;
    private long nextSweep;
    private volatile DataLossRestore restore;

    public ChangeReader(RedisCalls calls, KeySpace keys, StoreClock clock, long sweepMillis, String storeId) {
        this.calls = calls;
        this.keys = keys;
        this.clock = clock;
        this.sweepMillis = sweepMillis;
        this.storeId = storeId;
    }

    /** The restore to run when a flush read finds a tag's data lost. */
    public void restoreWith(DataLossRestore restore) {
        this.restore = restore;
    }

    /** A call changed the counters of {@code group} in {@code windows}. */
    public void touch(SlotGroup group, SlotGroup.Windows windows) {
        long current = generation;
        if (group.touchedGeneration == current && group.touchedWindows == windows) {
            return;
        }
        for (int j = 0; j < group.size(); j++) {
            touched.putIfAbsent(windows.keys()[j], new Touched(group.plan(j).limit().counterId(),
                    windows.windows()[j], group.tag()));
        }
        group.touchedWindows = windows;
        group.touchedGeneration = current;
    }

    /** A call changed the counter of one window, {@code key}. */
    public void touch(String key, CounterId counter, Window window) {
        touched.putIfAbsent(key, new Touched(counter, window, keys.tagOf(counter.holder())));
    }

    /** A call changed the counters of {@code counterKeys} (keys read back from Redis; others are ignored). */
    public void touch(List<String> counterKeys) {
        for (String key : counterKeys) {
            if (!touched.containsKey(key)) {
                Touched parsed = parse(key);
                if (parsed != null) {
                    touched.putIfAbsent(key, parsed);
                }
            }
        }
    }

    /** The counters marked since the last call, and every changed counter when a sweep is due, with versions. */
    public ChangeBatch changes() {
        generation++;
        Map<String, Touched> batch = new HashMap<>();
        for (Iterator<Map.Entry<String, Touched>> it = touched.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Touched> entry = it.next();
            it.remove();
            batch.put(entry.getKey(), entry.getValue());
        }
        Map<String, Touched> sweepOnly = sweepIfDue(batch);
        List<CounterSnapshot> snapshots = new ArrayList<>(batch.size() + sweepOnly.size());
        boolean[] read = new boolean[keys.tagCount()];
        read(batch, false, snapshots, read);
        read(sweepOnly, true, snapshots, read);
        DataLossRestore watch = restore;
        if (watch != null) {
            watch.checkEpochs(read);
        }
        return new ChangeBatch(snapshots, ++sequence);
    }

    private void read(Map<String, Touched> counters, boolean sweep, List<CounterSnapshot> out, boolean[] tagsRead) {
        Map<Integer, List<Map.Entry<String, Touched>>> byTag = new HashMap<>();
        for (Map.Entry<String, Touched> entry : counters.entrySet()) {
            byTag.computeIfAbsent(entry.getValue().tag(), t -> new ArrayList<>()).add(entry);
            tagsRead[entry.getValue().tag()] = true;
        }
        List<CompletableFuture<List<CounterSnapshot>>> reads = new ArrayList<>();
        for (Map.Entry<Integer, List<Map.Entry<String, Touched>>> tag : byTag.entrySet()) {
            List<Map.Entry<String, Touched>> all = tag.getValue();
            for (int from = 0; from < all.size(); from += BATCH) {
                reads.add(readBatch(tag.getKey(), all.subList(from, Math.min(all.size(), from + BATCH)), sweep,
                        true));
            }
        }
        for (CompletableFuture<List<CounterSnapshot>> read : reads) {
            out.addAll(calls.await(read, "changes"));
        }
    }

    private CompletableFuture<List<CounterSnapshot>> readBatch(int tag, List<Map.Entry<String, Touched>> batch,
                                                               boolean sweep, boolean restoreIfLost) {
        String[] counterKeys = new String[batch.size()];
        for (int i = 0; i < counterKeys.length; i++) {
            counterKeys[i] = batch.get(i).getKey();
        }
        KeySpace.TagKeys tagKeys = keys.tagKeys(tag);
        String[] args = {clock.timeArg(clock.guess())};
        int n = counterKeys.length;
        return calls.script(LuaScript.FLUSH, FlushCall.keys(tagKeys, counterKeys), args,
                () -> new FlushCall.Output(n), "changes").thenCompose(reply -> {
                    if (reply.status() == -1) {
                        DataLossRestore lost = restore;
                        if (!restoreIfLost || lost == null) {
                            return CompletableFuture.failedFuture(new StoreException(RedisCalls.STORE
                                    + ": changes: Redis lost its data again while it was being restored"));
                        }
                        // the values of an emptied tag are not the counters: read them again once restored
                        return lost.restore().thenCompose(done -> readBatch(tag, batch, sweep, false));
                    }
                    DataLossRestore watch = restore;
                    if (watch != null) {
                        watch.observe(tag, reply.epoch());
                    }
                    List<CounterSnapshot> snapshots = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        long value = reply.values()[i];
                        if (value < 0) {
                            continue;
                        }
                        if (sweep) {
                            Long last = swept.getIfPresent(counterKeys[i]);
                            swept.put(counterKeys[i], value);
                            if (last != null && last == value) {
                                continue;
                            }
                        }
                        Touched counter = batch.get(i).getValue();
                        if (counter.counter().metric() == Metric.IN_FLIGHT) {
                            // requests in flight live with their leases: a snapshot of them would outlive both
                            continue;
                        }
                        snapshots.add(new CounterSnapshot(counter.counter(), counter.window(), value,
                                reply.version()));
                    }
                    return CompletableFuture.completedFuture(snapshots);
                });
    }

    /** Every counter key in Redis not in {@code batch} when this replica takes the sweep; none otherwise. */
    private Map<String, Touched> sweepIfDue(Map<String, Touched> batch) {
        if (sweepMillis <= 0) {
            return Map.of();
        }
        long now = clock.guess();
        if (now < nextSweep) {
            return Map.of();
        }
        nextSweep = now + sweepMillis;
        String taken = calls.await(calls.commands().set(keys.sweep(), storeId,
                SetArgs.Builder.nx().px(sweepMillis)), "changes");
        if (!"OK".equals(taken)) {
            return Map.of();
        }
        Map<String, Touched> found = new HashMap<>();
        ScanArgs match = ScanArgs.Builder.matches(keys.counterPattern()).limit(BATCH);
        KeyScanCursor<String> cursor = calls.await(calls.commands().scan(match), "changes");
        while (true) {
            for (String key : cursor.getKeys()) {
                if (!batch.containsKey(key) && !found.containsKey(key)) {
                    Touched parsed = parse(key);
                    if (parsed != null) {
                        found.put(key, parsed);
                    }
                }
            }
            if (cursor.isFinished()) {
                return found;
            }
            ScanCursor next = cursor;
            cursor = calls.await(calls.commands().scan(next, match), "changes");
        }
    }

    /** A counter key read back to its counter and window; null for a key that is not one. */
    private Touched parse(String key) {
        KeySpace.ParsedKey parsed = keys.parse(key);
        if (parsed == null) {
            return null;
        }
        try {
            CounterId id = parsed.counter();
            WindowSpec spec = specs.computeIfAbsent(id.windowId(), WindowSpec::parseId);
            Window window = spec.windowAt(parsed.windowStart());
            if (window.startMillis() != parsed.windowStart()) {
                return null;
            }
            return new Touched(id, window, keys.tagOfKey(key));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** A counter and window a call changed, and its tag. */
    private record Touched(CounterId counter, Window window, int tag) {
    }
}
