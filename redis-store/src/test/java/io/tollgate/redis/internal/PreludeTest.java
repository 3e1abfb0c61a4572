package io.tollgate.redis.internal;

import io.lettuce.core.ScriptOutputType;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.Metric;
import io.tollgate.ResetPeriod;
import io.tollgate.Window;
import io.tollgate.WindowSpec;
import io.tollgate.redis.testing.SharedRedisClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.math.BigInteger;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The Lua prelude's arithmetic and lease handling against Java's, on a real Redis. */
class PreludeTest {

    private static final String ABOVE = LuaScript.prelude()
            + "\nlocal out = {}\nfor i = 1, #ARGV, 2 do\n"
            + "  out[#out + 1] = above(ARGV[i] ~= 'nil' and ARGV[i] or nil, ARGV[i + 1]) and 1 or 0\nend\nreturn out\n";
    private static final String OVERFLOWS = LuaScript.prelude()
            + "\nlocal out = {}\nfor i = 1, #ARGV, 2 do\n"
            + "  out[#out + 1] = overflows(ARGV[i], ARGV[i + 1]) and 1 or 0\nend\nreturn out\n";
    private static final String OUTSIDE = LuaScript.prelude()
            + "\nreturn outside(tonumber(ARGV[1]), ARGV[2], ARGV[3]) and 1 or 0\n";
    private static final String EXPIRE = LuaScript.prelude()
            + "\nreturn expire_leases(KEYS[1], KEYS[2], tonumber(ARGV[1]))\n";
    private static final long[] INTERESTING = {0, 1, 9, 10, 999_999_999, 1_000_000_000, 999_999_999_999_999L,
        1_000_000_000_000_000L, (1L << 53) - 1, 1L << 53, (1L << 53) + 1, Long.MAX_VALUE - 1, Long.MAX_VALUE};
    @RegisterExtension
    static final SharedRedisClient REDIS = new SharedRedisClient();

    @Test
    void aboveIsExactOverTheWholeLongRangeAgainstTheThresholdsJavaSends() {
        Random random = new Random(7);
        List<long[]> cases = new ArrayList<>();
        for (long used : INTERESTING) {
            for (long need : INTERESTING) {
                for (long max : INTERESTING) {
                    if (max > 0) {
                        cases.add(new long[] {used, need, max});
                    }
                }
            }
        }
        for (int i = 0; i < 3_000; i++) {
            long max = 1 + nonNegative(random) % (Long.MAX_VALUE - 1);
            long need = random.nextBoolean() ? 0 : nonNegative(random) % max;
            // values close to the threshold are the hard cases
            long used = random.nextBoolean() ? nonNegative(random)
                    : Math.max(0, Math.min(Long.MAX_VALUE, max - need + random.nextInt(3) - 1));
            cases.add(new long[] {used, need, max});
        }
        for (int from = 0; from < cases.size(); from += 500) {
            List<long[]> batch = cases.subList(from, Math.min(cases.size(), from + 500));
            String[] args = new String[batch.size() * 2];
            for (int i = 0; i < batch.size(); i++) {
                long[] c = batch.get(i);
                args[2 * i] = Long.toString(c[0]);
                args[2 * i + 1] = Long.toString(ReserveCall.threshold(c[1], c[2]));
            }
            List<Long> results = REDIS.sync().eval(ABOVE, ScriptOutputType.MULTI, new String[0], args);
            for (int i = 0; i < batch.size(); i++) {
                long[] c = batch.get(i);
                boolean fits = io.tollgate.spi.CounterOp.fits(c[0], c[1], c[2]);
                assertThat(results.get(i)).as("used %d, need %d, max %d", c[0], c[1], c[2]).isEqualTo(fits ? 0L : 1L);
            }
        }
        // a counter that does not exist yet is at zero
        List<Long> missing = REDIS.sync().eval(ABOVE, ScriptOutputType.MULTI, new String[0], "nil", "0", "nil", "-1");
        assertThat(missing).containsExactly(0L, 1L);
    }

    @Test
    void overflowsIsExactOverTheWholeLongRange() {
        Random random = new Random(11);
        List<long[]> cases = new ArrayList<>();
        for (long a : INTERESTING) {
            for (long b : INTERESTING) {
                cases.add(new long[] {a, b});
            }
        }
        for (int i = 0; i < 3_000; i++) {
            long a = nonNegative(random);
            long b = random.nextBoolean() ? nonNegative(random) : Math.max(0, Long.MAX_VALUE - a + random.nextInt(3) - 1);
            cases.add(new long[] {a, b});
        }
        String[] args = new String[cases.size() * 2];
        for (int i = 0; i < cases.size(); i++) {
            args[2 * i] = Long.toString(cases.get(i)[0]);
            args[2 * i + 1] = Long.toString(cases.get(i)[1]);
        }
        List<Long> results = REDIS.sync().eval(OVERFLOWS, ScriptOutputType.MULTI, new String[0], args);
        for (int i = 0; i < cases.size(); i++) {
            long[] c = cases.get(i);
            boolean expected = BigInteger.valueOf(c[0]).add(BigInteger.valueOf(c[1]))
                    .compareTo(BigInteger.valueOf(Long.MAX_VALUE)) > 0;
            assertThat(results.get(i)).as("%d + %d", c[0], c[1]).isEqualTo(expected ? 1L : 0L);
        }
    }

    /** Any non-negative long, with every number of digits about as likely. */
    private static long nonNegative(Random random) {
        return (random.nextLong() >>> 1) >>> random.nextInt(63);
    }

    @Test
    void theIntervalJavaSendsHoldsEveryWindowOfTheGroupAndTheScriptChecksIt() {
        Random random = new Random(13);
        for (int round = 0; round < 200; round++) {
            long now = 1_500_000_000_000L + (random.nextLong() >>> 24);
            List<Limit> limits = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                WindowSpec spec = switch (i % 3) {
                    case 0 -> WindowSpec.rolling(ResetPeriod.of(0, random.nextInt(3), 1 + (random.nextLong() >>> 30)),
                            Instant.ofEpochMilli(random.nextLong() >> (12 + random.nextInt(20))));
                    case 1 -> WindowSpec.calendar(ResetPeriod.parse("1M"), ZoneId.of("America/New_York"));
                    default -> WindowSpec.unbounded();
                };
                limits.add(new Limit(Holder.user("u" + i), Metric.TOKENS, 1, spec));
            }
            RequestPlan plan = new PlanCache(KeySpace.standalone("p"), 0).plan(limits, false);
            SlotGroup.Windows windows = plan.groups()[0].windows(now);
            for (Window window : windows.windows()) {
                assertThat(window.contains(windows.lo()) && window.contains(windows.hi() - 1)).isTrue();
            }
            assertThat(outside(now, windows)).isFalse();
            assertThat(outside(windows.lo() - 1, windows)).isTrue();
            if (windows.hi() != Long.MAX_VALUE) {
                assertThat(outside(windows.hi(), windows)).isTrue();
                assertThat(outside(windows.hi() - 1, windows)).isFalse();
            }
        }
    }

    private static boolean outside(long now, SlotGroup.Windows windows) {
        return REDIS.sync().<Long>eval(OUTSIDE, ScriptOutputType.INTEGER, new String[0], Long.toString(now),
                windows.loArg(), windows.hiArg()) == 1;
    }

    @Test
    void expiredLeasesGiveBackWhatTheirPlansNameNeverBelowZeroAndLeaveTheRest() {
        String head = "prelude-" + UUID.randomUUID() + ":{tg}:";
        String leases = head + "leases";
        String due = head + "lease-due";
        String a = head + "a";
        String b = head + "b";
        String gone = head + "gone";
        REDIS.sync().set(a, "100");
        REDIS.sync().set(b, "5");
        REDIS.sync().set(head + "lease-plan:p1", a + "\n" + b + "\n" + gone);
        REDIS.sync().set(head + "lease-plan:p2", a);
        REDIS.sync().zadd(leases, 1_000, "l1\np1\n60,9,3");
        REDIS.sync().zadd(leases, 1_500, "l3\nforgotten\n70");
        REDIS.sync().zadd(leases, 2_000, "l2\np2\n30");
        REDIS.sync().set(due, "1000");

        List<String> changed = REDIS.sync().eval(EXPIRE, ScriptOutputType.MULTI, new String[] {leases, due}, "1500");
        assertThat(changed).containsExactly(a, b, gone);
        assertThat(REDIS.sync().get(a)).isEqualTo("40");
        assertThat(REDIS.sync().get(b)).isEqualTo("0");
        assertThat(REDIS.sync().exists(gone)).isZero();
        // a lease whose plan is gone holds nothing that can be found: it is dropped
        assertThat(REDIS.sync().zrange(leases, 0, -1)).containsExactly("l2\np2\n30");
        assertThat(REDIS.sync().get(due)).isEqualTo("2000");

        REDIS.sync().eval(EXPIRE, ScriptOutputType.MULTI, new String[] {leases, due}, "2000");
        assertThat(REDIS.sync().get(a)).isEqualTo("10");
        assertThat(REDIS.sync().exists(leases, due)).isZero();
        REDIS.sync().del(a, b, head + "lease-plan:p1", head + "lease-plan:p2");
    }
}
