package io.tollgate.fleet;

import io.tollgate.Holder;
import io.tollgate.Metric;
import io.tollgate.benchmarks.RedisLauncher;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The default run on a {@code redis-server} the tool starts ({@code --redis local}), and on one it is given. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetRedisTest {

    private static final Pattern RUN_CALLS = Pattern.compile(
            "the run: ([\\d,]+) script calls \\(EVALSHA\\+EVAL\\) and ([\\d,]+) commands for ([\\d,]+) checks and "
                    + "([\\d,]+) charges that reached Redis");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private FleetMain.Result local;

    @BeforeAll
    void runOnAPrivateRedis() {
        local = FleetMain.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), "--redis", "local", "--duration", "3s");
    }

    private String output() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aRunOnItsOwnRedisHoldsEveryLimitAndAdmitsTheLargeMajority() {
        Ledger ledger = local.ledger();
        Ledger.LimitStats direct = ledger.limits(Holder.virtualKey("vk-globex-direct"), Metric.REQUESTS).get(0);

        assertThat(local.code()).as(output() + err).isZero();
        assertThat(ledger.admittedShare()).isBetween(0.85, 0.98);
        assertThat(direct.denied.sum()).isPositive();
        assertThat(direct.peak()).isEqualTo(direct.limit.max());
        assertThat(ledger.resent.sum()).isPositive().isEqualTo(ledger.refusedAsDuplicate.sum());
        assertThat(output()).contains(Report.VERDICT_OK);
    }

    @Test
    void aRunOnItsOwnRedisCountsOneScriptCallPerCheckAndPerCharge() {
        Matcher run = RUN_CALLS.matcher(output());

        assertThat(output()).contains("Redis calls per decision (INFO commandstats before and after, on the fleet's "
                + "own server: exact)");
        assertThat(run.find()).as(output()).isTrue();
        // Every check and charge that reached Redis is at least one script call, and each ran commands inside.
        long scripts = number(run.group(1));
        long decisions = number(run.group(3)) + number(run.group(4));
        assertThat(scripts).isGreaterThanOrEqualTo(decisions);
        // The tenant held at its maximum is denied, and again and again, by the replicas' denial caches.
        assertThat(output()).containsPattern("denial cache: [1-9][\\d,]* checks denied by a replica's memory of a "
                + "spent counter, without a call \\(\\d+\\.\\d % of [\\d,]+ checks\\)");
        assertThat(number(run.group(2))).isGreaterThan(scripts);
        // one call each, and now and then a second one: a call whose guessed windows Redis time left goes again
        assertThat(output()).containsPattern("one at a time after the run \\(vk-search-prod, openai/gpt-4o\\): "
                + "a check 1\\.\\d\\d script calls and \\d+\\.\\d\\d commands, a charge 1\\.\\d\\d script calls");
    }

    @Test
    void aRunOnAGivenRedisSaysThatOtherClientsCallsAreIncluded() {
        ByteArrayOutputStream shared = new ByteArrayOutputStream();
        try (RedisLauncher redis = RedisLauncher.start()) {
            int code = FleetMain.run(new PrintStream(shared, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), "--redis", redis.uri(), "--duration", "1s",
                    "--replicas", "2", "--threads", "2");

            assertThat(code).as(shared.toString(StandardCharsets.UTF_8) + err).isZero();
            assertThat(shared.toString(StandardCharsets.UTF_8))
                    .contains("Redis at " + redis.uri(), "on a shared server: other clients' calls are included")
                    .containsPattern(RUN_CALLS.pattern());
        }
    }

    @Test
    void aRunWithLeasesTakesSlicesAndStillHoldsEveryLimit() {
        ByteArrayOutputStream leased = new ByteArrayOutputStream();
        FleetMain.Result result = FleetMain.execute(new PrintStream(leased, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), "--redis", "local", "--leases", "--duration",
                "2s", "--replicas", "2", "--threads", "2");
        String text = leased.toString(StandardCharsets.UTF_8);

        assertThat(result.code()).as(text + err).isZero();
        assertThat(result.ledger().violations()).isEmpty();
        assertThat(text).contains("leased admission on every limit", Report.VERDICT_OK)
                // the gateway's traffic is spread over many counters, half of it with estimates: few checks find a
                // slice with room, yet every request limit takes slices
                .containsPattern("leased admission: [\\d,]+ checks admitted from a replica's slices without a "
                        + "call, [1-9][\\d,]* decided by Redis; [1-9][\\d,]* slices taken")
                .containsPattern("those answered without a call included: \\d\\.\\d{3} script calls per decision");
    }

    private static long number(String digits) {
        return Long.parseLong(digits.replace(",", ""));
    }
}
