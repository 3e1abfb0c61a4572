package io.tollgate.redis.internal;

import io.lettuce.core.ScriptOutputType;
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

import static org.assertj.core.api.Assertions.assertThat;

/** The Lua prelude's arithmetic against Java's, on a real Redis. */
class PreludeTest {

    private static final String COMPARE = Script.prelude()
            + "\nlocal out = {}\nfor i = 1, #ARGV, 3 do\n"
            + "  out[#out + 1] = compare_sum(ARGV[i], ARGV[i + 1], ARGV[i + 2])\nend\nreturn out\n";
    private static final String WINDOWS = Script.prelude()
            + "\nlocal out = {}\nlocal p = 2\nlocal now = tonumber(ARGV[1])\nwhile p <= #ARGV do\n"
            + "  local s, e\n  s, e, p = window(now, p)\n  out[#out + 1] = s or -1\nend\nreturn out\n";
    private static final String KEY_OF = Script.prelude()
            + "\nreturn window_key(KEYS[1], tonumber(ARGV[1]), ARGV[2])\n";
    @RegisterExtension
    static final SharedRedisClient REDIS = new SharedRedisClient();

    @Test
    void compareSumIsExactOverTheWholeLongRange() {
        Random random = new Random(7);
        List<long[]> cases = new ArrayList<>();
        long[] interesting = {0, 1, 9, 10, 999_999_999, 1_000_000_000, 999_999_999_999_999L,
            1_000_000_000_000_000L, (1L << 53) - 1, 1L << 53, (1L << 53) + 1, Long.MAX_VALUE - 1, Long.MAX_VALUE};
        for (long a : interesting) {
            for (long b : interesting) {
                for (long c : interesting) {
                    cases.add(new long[] {a, b, c});
                }
            }
        }
        for (int i = 0; i < 3_000; i++) {
            long a = nonNegative(random);
            long b = nonNegative(random);
            // sums close to c are the hard cases
            long c = random.nextBoolean() ? nonNegative(random)
                    : BigInteger.valueOf(a).add(BigInteger.valueOf(b)).add(BigInteger.valueOf(random.nextInt(3) - 1))
                    .min(BigInteger.valueOf(Long.MAX_VALUE)).max(BigInteger.ZERO).longValue();
            cases.add(new long[] {a, b, c});
        }
        for (int from = 0; from < cases.size(); from += 500) {
            List<long[]> batch = cases.subList(from, Math.min(cases.size(), from + 500));
            String[] args = new String[batch.size() * 3];
            for (int i = 0; i < batch.size(); i++) {
                for (int j = 0; j < 3; j++) {
                    args[3 * i + j] = Long.toString(batch.get(i)[j]);
                }
            }
            List<Long> results = REDIS.sync().eval(COMPARE, ScriptOutputType.MULTI, new String[0], args);
            for (int i = 0; i < batch.size(); i++) {
                long[] c = batch.get(i);
                int expected = BigInteger.valueOf(c[0]).add(BigInteger.valueOf(c[1])).compareTo(BigInteger.valueOf(c[2]));
                assertThat(results.get(i)).as("%d + %d vs %d", c[0], c[1], c[2]).isEqualTo((long) expected);
            }
        }
    }

    /** Any non-negative long, with every number of digits about as likely. */
    private static long nonNegative(Random random) {
        return (random.nextLong() >>> 1) >>> random.nextInt(63);
    }

    @Test
    void fixedLengthWindowsInLuaMatchWindowSpec() {
        Random random = new Random(11);
        for (int round = 0; round < 200; round++) {
            long now = 1_500_000_000_000L + (random.nextLong() >>> 24);
            List<WindowSpec> specs = new ArrayList<>();
            List<String> args = new ArrayList<>(List.of(Long.toString(now)));
            for (int i = 0; i < 20; i++) {
                ResetPeriod period = ResetPeriod.of(0, random.nextInt(3), 1 + (random.nextLong() >>> 30));
                Instant anchor = Instant.ofEpochMilli(random.nextLong() >> random.nextInt(20));
                WindowSpec spec = WindowSpec.rolling(period, anchor);
                LimitPlan plan = new LimitPlan(new io.tollgate.Limit(io.tollgate.Holder.user("u"),
                        io.tollgate.Metric.TOKENS, 1, spec), "k");
                specs.add(spec);
                args.addAll(List.of(plan.expected(now - 7_777_777_777L * (i % 3)).args()));
            }
            List<Long> starts = REDIS.sync().eval(WINDOWS, ScriptOutputType.MULTI, new String[0], args.toArray(new String[0]));
            for (int i = 0; i < specs.size(); i++) {
                assertThat(starts.get(i)).as("%s at %d", specs.get(i), now)
                        .isEqualTo(specs.get(i).windowAt(now).startMillis());
            }
        }
    }

    @Test
    void theSentKeyIsUsedWhenTheGuessIsRightAndRebuiltOtherwise() {
        assertThat(REDIS.sync().<String>eval(KEY_OF, ScriptOutputType.VALUE, new String[] {"p:v1:c:{tg}:vk:a:requests:1m:60000"},
                "60000", "60000")).isEqualTo("p:v1:c:{tg}:vk:a:requests:1m:60000");
        assertThat(REDIS.sync().<String>eval(KEY_OF, ScriptOutputType.VALUE, new String[] {"p:v1:c:{tg}:vk:a:requests:1m:60000"},
                "1740000000000", "60000")).isEqualTo("p:v1:c:{tg}:vk:a:requests:1m:1740000000000");
        assertThat(REDIS.sync().<String>eval(KEY_OF, ScriptOutputType.VALUE, new String[] {"p:v1:c:{tg}:vk:a:requests:1m:-60000"},
                "0", "-60000")).isEqualTo("p:v1:c:{tg}:vk:a:requests:1m:0");
    }

    @Test
    void candidateWindowsPickTheOneHoldingTheTime() {
        WindowSpec monthly = WindowSpec.calendar(ResetPeriod.parse("1M"), ZoneId.of("America/New_York"));
        LimitPlan plan = new LimitPlan(new io.tollgate.Limit(io.tollgate.Holder.user("u"), io.tollgate.Metric.COST, 1,
                monthly), "k");
        long local = Instant.parse("2027-03-15T12:00:00Z").toEpochMilli();
        String[] args = plan.expected(local).args();
        for (long offsetDays : new long[] {-70, -40, -10, 0, 20, 50, 75}) {
            long now = local + offsetDays * 86_400_000L;
            List<String> call = new ArrayList<>(List.of(Long.toString(now)));
            call.addAll(List.of(args));
            Window expected = monthly.windowAt(now);
            List<Long> starts = REDIS.sync().eval(WINDOWS, ScriptOutputType.MULTI, new String[0], call.toArray(new String[0]));
            assertThat(starts).containsExactly(expected.startMillis());
        }
        List<String> tooFar = new ArrayList<>(List.of(Long.toString(local + 100 * 86_400_000L)));
        tooFar.addAll(List.of(args));
        assertThat(REDIS.sync().<List<Long>>eval(WINDOWS, ScriptOutputType.MULTI, new String[0],
                tooFar.toArray(new String[0]))).containsExactly(-1L);
    }
}
