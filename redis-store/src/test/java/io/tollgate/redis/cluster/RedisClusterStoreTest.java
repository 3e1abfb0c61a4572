package io.tollgate.redis.cluster;

import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.protocol.CommandType;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.StoreException;
import io.tollgate.TollgateException;
import io.tollgate.WindowSpec;
import io.tollgate.redis.RedisGovernanceStore;
import io.tollgate.redis.RedisPlacement;
import io.tollgate.redis.RedisStoreOptions;
import io.tollgate.redis.internal.KeySpace;
import io.tollgate.redis.testing.RedisClusterFixture;
import io.tollgate.spi.ChangeBatch;
import io.tollgate.spi.ChargeResult;
import io.tollgate.spi.CounterOp;
import io.tollgate.spi.CounterOps;
import io.tollgate.spi.CounterSnapshot;
import io.tollgate.spi.CounterState;
import io.tollgate.spi.ReserveResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

import static io.tollgate.redis.cluster.ClusterTests.calls;
import static io.tollgate.redis.cluster.ClusterTests.failureOf;
import static io.tollgate.redis.cluster.ClusterTests.join;
import static io.tollgate.redis.cluster.ClusterTests.keysOn;
import static io.tollgate.redis.cluster.ClusterTests.onNode;
import static io.tollgate.redis.cluster.ClusterTests.uniquePrefix;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the grouped path does on a real cluster beyond the contract: releases, a charge completed by its retry, an
 * re-sent charge with other content, an overflow undone everywhere, one node's data loss restored alone, scripts
 * loaded per node, flush reads per tag.
 */
class RedisClusterStoreTest {

    private static final WindowSpec HOUR = WindowSpec.rolling(ResetPeriod.parse("1h"));
    private static RedisClusterFixture cluster;
    private static RedisClusterClient client;

    @BeforeAll
    static void connect() {
        cluster = RedisClusterFixture.shared();
        client = cluster.newClient();
    }

    @AfterAll
    static void disconnect() {
        RedisClusterFixture.shutdown(client);
    }

    @Test
    void aDenialInOneSlotGroupGivesBackWhatTheOtherGroupsTook() {
        String prefix = uniquePrefix("release");
        Limit[] limits = apart(prefix, i -> new Limit(Holder.virtualKey("key-" + i), Metric.TOKENS, 1_000, HOUR),
                i -> new Limit(Holder.team("team-" + i), Metric.REQUESTS, 1, HOUR));
        Limit tokens = limits[0];
        Limit requests = limits[1];
        try (RedisGovernanceStore store = store(prefix, Clock.systemUTC())) {
            assertThat(join(store.reserve(List.of(CounterOp.take(tokens, 100), CounterOp.take(requests, 1))))
                    .admitted()).isTrue();

            ReserveResult denied = join(store.reserve(List.of(CounterOp.take(tokens, 300),
                    CounterOp.take(requests, 1))));
            assertThat(denied.admitted()).isFalse();
            assertThat(denied.counters()).extracting(CounterState::used).containsExactly(100L, 1L);
            // the 300 tokens the key's group took were given back when the team's group said no
            assertThat(values(store, tokens, requests)).containsExactly(100L, 1L);
        }
    }

    @Test
    void aChargeThatFailedInOneSlotGroupIsCompletedByItsRetryAndNeverDoubled() {
        String prefix = uniquePrefix("retry");
        Limit[] limits = onTwoMasters(prefix, i -> new Limit(Holder.user("user-" + i), Metric.TOKENS, 1_000, HOUR),
                i -> new Limit(Holder.team("team-" + i), Metric.TOKENS, 1_000, HOUR));
        List<CounterOp> ops = List.of(CounterOp.add(limits[0], 5), CounterOp.add(limits[1], 7));
        RedisClusterFixture.Node teamNode = nodeOf(tagOf(prefix, limits[1]));
        try (RedisGovernanceStore store = store(prefix, Clock.systemUTC())) {
            // the team's node refuses scripts for a moment: the user's group applies, the team's does not
            onNode(teamNode, redis -> redis.aclSetuser("default", AclSetuserArgs.Builder.on().removeCommand(
                    CommandType.EVALSHA)));
            try {
                assertThat(failureOf(store.charge("r1", ops))).isInstanceOf(TollgateException.class);
            } finally {
                onNode(teamNode, redis -> redis.aclSetuser("default", AclSetuserArgs.Builder.on().allCommands()));
            }
            assertThat(values(store, limits)).containsExactly(5L, 0L);

            assertThat(join(store.charge("r1", ops))).isEqualTo(ChargeResult.APPLIED);
            assertThat(values(store, limits)).containsExactly(5L, 7L);
            assertThat(join(store.charge("r1", ops))).isEqualTo(ChargeResult.DUPLICATE);
            assertThat(values(store, limits)).containsExactly(5L, 7L);
        }
    }

    @Test
    void aChargeResentWithOtherContentAppliesNothingAnywhere() {
        String prefix = uniquePrefix("resent");
        Limit[] limits = apart(prefix, i -> new Limit(Holder.user("user-" + i), Metric.TOKENS, 1_000, HOUR),
                i -> new Limit(Holder.team("team-" + i), Metric.TOKENS, 1_000, HOUR));
        try (RedisGovernanceStore store = store(prefix, Clock.systemUTC())) {
            assertThat(join(store.charge("r1", List.of(CounterOp.add(limits[0], 5))))).isEqualTo(ChargeResult.APPLIED);
            // the same request id and chunk again, now over two slot groups (a configuration changed, say)
            assertThat(join(store.charge("r1", List.of(CounterOp.add(limits[0], 5), CounterOp.add(limits[1], 7)))))
                    .isEqualTo(ChargeResult.DUPLICATE);
            assertThat(values(store, limits)).containsExactly(5L, 0L);
        }
    }

    @Test
    void anOverflowInOneSlotGroupIsUndoneInTheOthersReleasesIncluded() {
        String prefix = uniquePrefix("overflow");
        Limit[] limits = apart(prefix, i -> new Limit(Holder.virtualKey("key-" + i), Metric.TOKENS, 1_000, HOUR),
                i -> new Limit(Holder.customer("customer-" + i), Metric.COST, Long.MAX_VALUE, HOUR));
        Limit tokens = limits[0];
        Limit cost = limits[1];
        try (RedisGovernanceStore store = store(prefix, Clock.systemUTC())) {
            ReserveResult reserved = join(store.reserve(List.of(CounterOp.hold(tokens, 100))));
            join(store.charge("fill", List.of(CounterOp.add(cost, Long.MAX_VALUE - 10))));

            CounterOps tooMuch = CounterOps.of(List.of(tokens, cost), new long[] {30, 11}, new long[2])
                    .settling(reserved.lease());
            assertThat(failureOf(store.charge("r1", tooMuch)).getMessage()).containsIgnoringCase("overflow");
            // the key's group had given the estimate back and added the usage: both undone, the lease held again
            assertThat(values(store, tokens, cost)).containsExactly(100L, Long.MAX_VALUE - 10);

            CounterOps fits = CounterOps.of(List.of(tokens, cost), new long[] {30, 10}, new long[2])
                    .settling(reserved.lease());
            assertThat(join(store.charge("r1", fits))).isEqualTo(ChargeResult.APPLIED);
            assertThat(values(store, tokens, cost)).containsExactly(30L, Long.MAX_VALUE);
        }
    }

    @Test
    void whenOneNodeLosesItsDataOnlyItsTagsAreRestored() {
        String prefix = uniquePrefix("loss");
        List<Limit> limits = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            limits.add(new Limit(Holder.user("user-" + i), Metric.TOKENS, 1_000_000, HOUR));
        }
        List<CounterSnapshot> persisted = new CopyOnWriteArrayList<>();
        List<Instant> asked = new CopyOnWriteArrayList<>();
        RedisStoreOptions options = RedisStoreOptions.builder().keyPrefix(prefix)
                .commandTimeout(Duration.ofSeconds(5))
                .snapshotSource(now -> {
                    asked.add(now);
                    return List.copyOf(persisted);
                }).build();
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client).options(options).build()) {
            for (int i = 0; i < limits.size(); i++) {
                join(store.charge("r" + i, List.of(CounterOp.add(limits.get(i), 5))));
            }
            // snapshots above the live values: a restore of a tag that lost nothing would show
            for (CounterSnapshot snapshot : store.changes().counters()) {
                persisted.add(new CounterSnapshot(snapshot.counter(), snapshot.window(), snapshot.value() + 100,
                        snapshot.version()));
            }
            assertThat(persisted).hasSize(limits.size());
            asked.clear();

            RedisClusterFixture.Node lost = nodeOf(tagOf(prefix, limits.get(0)));
            List<String> wiped = keysOn(lost, prefix + ":*");
            // a node replaced by an empty one, for this store's keys (other tests share the cluster)
            onNode(lost, redis -> {
                wiped.forEach(redis::del);
                return null;
            });

            List<CounterOp> check = limits.stream().map(limit -> CounterOp.take(limit, 0)).toList();
            List<CounterState> after = join(store.reserve(check)).counters();
            assertThat(asked).hasSize(1);
            int restored = 0;
            for (int i = 0; i < limits.size(); i++) {
                boolean onLostNode = nodeOf(tagOf(prefix, limits.get(i))).port() == lost.port();
                assertThat(after.get(i).used()).as("user-%d", i).isEqualTo(onLostNode ? 105L : 5L);
                restored += onLostNode ? 1 : 0;
            }
            assertThat(restored).isBetween(1, limits.size() - 1);
        }
    }

    @Test
    void twoReplicasRestoringAtOnceAgreeOnOneEpochSoAReleaseAfterwardsStillGivesBack() throws Exception {
        for (int round = 0; round < 5; round++) {
            String prefix = uniquePrefix("race" + round);
            Limit[] limits = apart(prefix, i -> new Limit(Holder.virtualKey("key-" + i), Metric.TOKENS, 1_000, HOUR),
                    i -> new Limit(Holder.team("team-" + i), Metric.REQUESTS, 1, HOUR));
            Limit tokens = limits[0];
            Limit requests = limits[1];
            // a slow snapshot source, so that the two restores overlap
            RedisStoreOptions options = RedisStoreOptions.builder().keyPrefix(prefix)
                    .commandTimeout(Duration.ofSeconds(5))
                    .snapshotSource(now -> {
                        sleep(200);
                        return List.of();
                    }).build();
            try (RedisGovernanceStore a = RedisGovernanceStore.builder(client).options(options).build();
                 RedisGovernanceStore b = RedisGovernanceStore.builder(client).options(options).build()) {
                join(a.reserve(List.of(CounterOp.take(tokens, 0), CounterOp.take(requests, 0))));
                join(b.reserve(List.of(CounterOp.take(tokens, 0), CounterOp.take(requests, 0))));
                for (Limit limit : limits) {
                    onNode(nodeOf(tagOf(prefix, limit)), redis -> redis.del(prefix + ":v2:" + tagOf(prefix, limit)
                            + ":epoch"));
                }

                CompletableFuture<ReserveResult> first = a.reserve(List.of(CounterOp.take(tokens, 100),
                        CounterOp.take(requests, 1))).toCompletableFuture();
                CompletableFuture<ReserveResult> second = b.reserve(List.of(CounterOp.take(tokens, 0),
                        CounterOp.take(requests, 0))).toCompletableFuture();
                assertThat(first.get(10, TimeUnit.SECONDS).admitted()).isTrue();
                second.get(10, TimeUnit.SECONDS);

                // the key's group takes 300, the team's refuses: the release carries the epoch replica a saw
                ReserveResult denied = join(a.reserve(List.of(CounterOp.take(tokens, 300),
                        CounterOp.take(requests, 1))));
                assertThat(denied.admitted()).isFalse();
                assertThat(values(a, tokens, requests)).as("round %d", round).containsExactly(100L, 1L);
                assertThat(values(b, tokens, requests)).containsExactly(100L, 1L);
            }
        }
    }

    @Test
    void aNodeThatForgotTheScriptsGetsThemAgainOnItsOwn() {
        String prefix = uniquePrefix("noscript");
        Limit limit = new Limit(Holder.user("user"), Metric.REQUESTS, 100, HOUR);
        try (RedisGovernanceStore store = store(prefix, Clock.systemUTC())) {
            assertThat(join(store.reserve(List.of(CounterOp.take(limit, 1)))).admitted()).isTrue();
            RedisClusterFixture.Node node = nodeOf(tagOf(prefix, limit));
            onNode(node, redis -> redis.scriptFlush());
            onNode(node, redis -> redis.configResetstat());

            assertThat(join(store.reserve(List.of(CounterOp.take(limit, 1)))).counters().get(0).used())
                    .isEqualTo(1);
            assertThat(join(store.charge("r1", List.of(CounterOp.add(limit, 1))))).isEqualTo(ChargeResult.APPLIED);
            assertThat(values(store, limit)).containsExactly(3L);
            // one EVAL per script that node missed (reserve, charge, read), then EVALSHA again
            assertThat(calls(node, "eval")).isEqualTo(3);
            assertThat(join(store.reserve(List.of(CounterOp.take(limit, 1)))).admitted()).isTrue();
            assertThat(calls(node, "eval")).isEqualTo(3);
        }
    }

    @Test
    void changesOfEveryTagAreListedOnceWithGrowingVersions() {
        String prefix = uniquePrefix("changes");
        int count = 300;
        try (RedisGovernanceStore store = store(prefix, Clock.systemUTC())) {
            for (int i = 0; i < count; i++) {
                join(store.charge("r" + i, List.of(CounterOp.add(user(i), i + 1))));
            }
            ChangeBatch first = store.changes();
            assertThat(valuesByUser(first)).hasSize(count).containsEntry("user-0", 1L).containsEntry("user-299", 300L);
            assertThat(store.changes().counters()).isEmpty();

            join(store.charge("again", List.of(CounterOp.add(user(7), 10))));
            ChangeBatch second = store.changes();
            assertThat(valuesByUser(second)).containsExactly(Map.entry("user-7", 18L));
            long before = first.counters().stream().filter(s -> s.counter().holder().id().equals("user-7"))
                    .findFirst().orElseThrow().version();
            assertThat(second.counters().get(0).version()).isGreaterThan(before);
        }
    }

    @Test
    void chargesFollowASlotThatMovesToAnotherMasterAndCountExactlyOnce() throws Exception {
        String prefix = uniquePrefix("moved");
        Limit tokens = new Limit(Holder.virtualKey("key"), Metric.TOKENS, Long.MAX_VALUE, HOUR);
        Limit requests = new Limit(Holder.virtualKey("key"), Metric.REQUESTS, Long.MAX_VALUE, HOUR);
        try (RedisGovernanceStore store = store(prefix, Clock.systemUTC())) {
            String tag = tagOf(prefix, tokens);
            int slot = SlotHash.getSlot(tag);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong acknowledged = new AtomicLong();
            AtomicLong admitted = new AtomicLong();
            AtomicLong retries = new AtomicLong();
            Thread load = new Thread(() -> {
                for (int i = 0; !stop.get(); i++) {
                    try {
                        if (join(store.reserve(List.of(CounterOp.take(requests, 1)))).admitted()) {
                            admitted.incrementAndGet();
                        }
                    } catch (AssertionError e) {
                        // TRYAGAIN while the slot's keys are split between two nodes: a denial-free failure
                        retries.incrementAndGet();
                    }
                    List<CounterOp> ops = List.of(CounterOp.add(tokens, 1));
                    while (true) {
                        try {
                            join(store.charge("r" + i, ops));
                            acknowledged.incrementAndGet();
                            break;
                        } catch (AssertionError e) {
                            retries.incrementAndGet();
                        }
                    }
                }
            });
            load.start();
            Thread.sleep(300);
            RedisClusterFixture.Node from = nodeOf(tag);
            RedisClusterFixture.Node to = cluster.masters().stream().filter(m -> m.port() != from.port())
                    .findFirst().orElseThrow();
            migrate(slot, from, to);
            Thread.sleep(300);
            stop.set(true);
            load.join(60_000);

            assertThat(nodeOf(tag).port()).isEqualTo(to.port());
            assertThat(acknowledged.get()).isPositive();
            // MOVED and ASK are followed; a retried charge is applied once; a failed check took nothing it kept
            assertThat(values(store, tokens)).containsExactly(acknowledged.get());
            assertThat(values(store, requests).get(0)).isGreaterThanOrEqualTo(admitted.get());
            System.out.printf("slot %d moved under load: %d charges, %d retried, %d checks admitted%n", slot,
                    acknowledged.get(), retries.get(), admitted.get());
        }
    }

    /** Moves one slot and its keys from one master to another, as {@code redis-cli --cluster reshard} does. */
    private static void migrate(int slot, RedisClusterFixture.Node from, RedisClusterFixture.Node to) {
        String s = Integer.toString(slot);
        cluster.command(to, "CLUSTER", "SETSLOT", s, "IMPORTING", from.id());
        cluster.command(from, "CLUSTER", "SETSLOT", s, "MIGRATING", to.id());
        while (true) {
            @SuppressWarnings("unchecked")
            List<Object> keys = (List<Object>) cluster.command(from, "CLUSTER", "GETKEYSINSLOT", s, "10");
            if (keys.isEmpty()) {
                break;
            }
            List<String> migrate = new ArrayList<>(List.of("MIGRATE", to.host(), Integer.toString(to.port()), "",
                    "0", "5000", "KEYS"));
            keys.forEach(key -> migrate.add((String) key));
            cluster.command(from, migrate.toArray(new String[0]));
        }
        for (RedisClusterFixture.Node master : cluster.masters()) {
            cluster.command(master, "CLUSTER", "SETSLOT", s, "NODE", to.id());
        }
    }

    @Test
    void aStoreOnTheUsersClusterConnectionLeavesItOpen() {
        String prefix = uniquePrefix("connection");
        Limit limit = new Limit(Holder.user("user"), Metric.REQUESTS, 100, HOUR);
        try (StatefulRedisClusterConnection<String, String> mine = client.connect()) {
            RedisGovernanceStore store = RedisGovernanceStore.builder(mine)
                    .options(RedisStoreOptions.builder().keyPrefix(prefix).build()).build();
            assertThat(join(store.reserve(List.of(CounterOp.take(limit, 1)))).admitted()).isTrue();
            assertThat(store).hasToString("RedisGovernanceStore[" + prefix + ", cluster]");
            store.close();
            assertThat(mine.isOpen()).isTrue();
            // the user's connection still works, and sees the data epoch the store set
            assertThat(mine.sync().get(prefix + ":v2:" + tagOf(prefix, limit) + ":epoch")).isNotNull();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Limit user(int i) {
        return new Limit(Holder.user("user-" + i), Metric.TOKENS, 1_000_000, HOUR);
    }

    private static Map<String, Long> valuesByUser(ChangeBatch batch) {
        Map<String, Long> values = new HashMap<>();
        for (CounterSnapshot snapshot : batch.counters()) {
            assertThat(values.put(snapshot.counter().holder().id(), snapshot.value())).isNull();
        }
        return values;
    }

    /** Two limits, the first of each kind whose holders fall in different slot groups (most do). */
    private static Limit[] apart(String prefix, IntFunction<Limit> first, IntFunction<Limit> second) {
        for (int i = 0; ; i++) {
            Limit a = first.apply(i);
            Limit b = second.apply(i);
            if (tagOf(prefix, a) != tagOf(prefix, b)) {
                return new Limit[] {a, b};
            }
        }
    }

    /** Two limits whose tags are served by two different masters. */
    private static Limit[] onTwoMasters(String prefix, IntFunction<Limit> first, IntFunction<Limit> second) {
        for (int i = 0; ; i++) {
            Limit a = first.apply(i);
            Limit b = second.apply(i);
            if (nodeOf(tagOf(prefix, a)).port() != nodeOf(tagOf(prefix, b)).port()) {
                return new Limit[] {a, b};
            }
        }
    }

    private static String tagOf(String prefix, Limit limit) {
        KeySpace layout = KeySpace.cluster(prefix, RedisPlacement.perHolder());
        return layout.tag(layout.tagOf(limit.holder()));
    }

    /** The master that serves a hash tag's slot. */
    private static RedisClusterFixture.Node nodeOf(String tag) {
        client.refreshPartitions();
        RedisClusterNode owner = client.getPartitions().getMasterBySlot(SlotHash.getSlot(tag));
        for (RedisClusterFixture.Node master : cluster.masters()) {
            if (master.port() == owner.getUri().getPort()) {
                return master;
            }
        }
        throw new AssertionError("no master serves " + tag);
    }

    private static RedisGovernanceStore store(String prefix, Clock clock) {
        return RedisGovernanceStore.builder(client).options(RedisStoreOptions.builder().keyPrefix(prefix)
                .clock(clock).commandTimeout(Duration.ofSeconds(5)).build()).build();
    }

    private static List<Long> values(RedisGovernanceStore store, Limit... limits) {
        return join(store.read(List.of(limits))).stream().map(CounterState::used).toList();
    }
}
