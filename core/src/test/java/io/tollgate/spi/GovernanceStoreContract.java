package io.tollgate.spi;

import static io.tollgate.spi.GovernanceStoreContract.Level.ANY_MODEL_ANY_PROVIDER;
import static io.tollgate.spi.GovernanceStoreContract.Level.CUSTOMER;
import static io.tollgate.spi.GovernanceStoreContract.Level.CUSTOMER_OF_KEY;
import static io.tollgate.spi.GovernanceStoreContract.Level.MODEL_AND_PROVIDER;
import static io.tollgate.spi.GovernanceStoreContract.Level.PROVIDER_CONFIG;
import static io.tollgate.spi.GovernanceStoreContract.Level.TEAM;
import static io.tollgate.spi.GovernanceStoreContract.Level.USER;
import static io.tollgate.spi.GovernanceStoreContract.Level.VIRTUAL_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.tollgate.Budget;
import io.tollgate.BudgetResolver;
import io.tollgate.CallPart;
import io.tollgate.ChargeOutcome;
import io.tollgate.CheckRequest;
import io.tollgate.CounterId;
import io.tollgate.Customer;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.Holder;
import io.tollgate.Limit;
import io.tollgate.LimitUsage;
import io.tollgate.Metric;
import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.Outcome;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.Reservation;
import io.tollgate.ResetPeriod;
import io.tollgate.Team;
import io.tollgate.UsageStream;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.Window;
import io.tollgate.WindowSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The behaviour every {@link GovernanceStore} must show, driven through the public API ({@link BudgetResolver},
 * {@link UsageTracker}) and, where the SPI itself is the point, through direct SPI calls.
 *
 * <p>A store proves itself by extending this class and implementing {@link #createStore(Clock)}. What the suite
 * asks of the store it gets:
 * <ul>
 *   <li>Windows are laid out on the given {@link TestClock}, and {@link ReserveResult#storeTimeMillis()} reports it.
 *       The suite sets that clock to any instant, past or future, and moves it forwards and backwards; a store whose
 *       production clock cannot be injected (Redis reads {@code TIME}) offers a test-only time source for this, and
 *       computes key lifetimes from it too.</li>
 *   <li>A window's final value stays visible to {@link GovernanceStore#changes} for at least a minute after the
 *       window ends (the suite looks one second after an end).</li>
 *   <li>The store's data may be shared with other tests (one Redis for a whole build): every test uses holder ids and
 *       request ids of its own, and looks only at its own counters in {@link GovernanceStore#changes}. Each test
 *       gets a fresh store object and closes it.</li>
 *   <li>A list that names one counter twice, and a charge that would overflow a counter, are refused either by
 *       throwing or with a failed stage; the message names the counter (its holder id) or says "overflow", and
 *       nothing is applied.</li>
 * </ul>
 *
 * <p>A store's own test, with {@code tollgate-core} of type {@code test-jar} as a test dependency:
 * <pre>{@code
 * class MyStoreTest extends GovernanceStoreContract {
 *     @Override
 *     protected GovernanceStore createStore(Clock clock) {
 *         return MyStore.builder(client).timeSource(clock).build();
 *     }
 * }
 * }</pre>
 *
 * <p>Not thread-safe: JUnit makes one instance per test.
 */
public abstract class GovernanceStoreContract {

    /** Where every test starts: a Wednesday, half past ten, in the middle of an hour window. */
    protected static final Instant START = Instant.parse("2027-03-10T10:30:00Z");
    protected static final WindowSpec HOUR = WindowSpec.rolling(ResetPeriod.parse("1h"));
    private static final Instant HOUR_START = Instant.parse("2027-03-10T10:00:00Z");
    private static final Instant HOUR_END = Instant.parse("2027-03-10T11:00:00Z");
    private static final ZoneId UTC = ZoneOffset.UTC;
    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    /** A guard against a hung store, not a timing assertion. */
    private static final long PATIENCE_SECONDS = 120;

    protected final TestClock clock = new TestClock(START);
    protected GovernanceStore store;

    /**
     * A new store object under test, laying out windows on {@code clock}. Called once before each test; the suite
     * closes it after the test.
     */
    protected abstract GovernanceStore createStore(Clock clock);

    @BeforeEach
    void openStore() {
        clock.set(START);
        store = createStore(clock);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    // ---------------------------------------------------------------- outcomes and decision details

    @Test
    void unknownVirtualKeyIsNotFound() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(5));
        Decision d = f.check(b -> b.virtualKey("sk-" + f.tag + "unknown"));
        assertThat(d.outcome()).isEqualTo(Outcome.VIRTUAL_KEY_NOT_FOUND);
        assertThat(d.allowed()).isFalse();
        assertThat(d.httpStatus()).isEqualTo(401);
        assertThat(d.deniedBy()).isEmpty();
        assertThat(d.resetAt()).isEmpty();
        assertThat(d.reservation()).isEmpty();
        assertThat(d.headers()).isEmpty();
    }

    @Test
    void inactiveVirtualKeyIsBlocked() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(5)).inactive();
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.VIRTUAL_KEY_BLOCKED);
        assertThat(d.httpStatus()).isEqualTo(403);
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isZero();
    }

    @Test
    void virtualKeyIsBlockedFromTheInstantItExpires() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(5)).expiresAt(START.plusSeconds(60));
        assertThat(f.check().allowed()).isTrue();
        clock.set(START.plusSeconds(60));
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.VIRTUAL_KEY_BLOCKED);
        assertThat(d.httpStatus()).isEqualTo(403);
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(1);
    }

    @Test
    void providerMissingFromTheKeyIsBlocked() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(5));
        Decision d = f.check(b -> b.provider("anthropic"));
        assertThat(d.outcome()).isEqualTo(Outcome.PROVIDER_BLOCKED);
        assertThat(d.httpStatus()).isEqualTo(403);
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isZero();
    }

    @Test
    void modelOutsideTheAllowedSetIsBlocked() {
        Fixture f = fixture().models(Set.of("gpt-4o"), Set.of());
        assertThat(f.check().allowed()).isTrue();
        Decision d = f.check(b -> b.model("gpt-3.5"));
        assertThat(d.outcome()).isEqualTo(Outcome.MODEL_BLOCKED);
        assertThat(d.httpStatus()).isEqualTo(403);
    }

    @Test
    void blockedModelIsRefusedEvenWhenEveryModelIsAllowed() {
        Fixture f = fixture().models(Set.of("*"), Set.of("gpt-4o"));
        assertThat(f.check().outcome()).isEqualTo(Outcome.MODEL_BLOCKED);
        assertThat(f.check(b -> b.model("gpt-4o-mini")).allowed()).isTrue();
    }

    @Test
    void emptyAllowedSetAllowsNoModel() {
        Fixture f = fixture().models(Set.of(), Set.of());
        assertThat(f.check().outcome()).isEqualTo(Outcome.MODEL_BLOCKED);
        assertThat(f.check(b -> b.model("anything")).outcome()).isEqualTo(Outcome.MODEL_BLOCKED);
    }

    @Test
    void requestLimitDenialNamesTheLimitAndWhenItResets() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(2)).limit(TEAM, requests(10));
        f.check();
        f.check();
        clock.advance(Duration.ofMillis(250));
        Decision d = f.check();

        assertThat(d.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertThat(d.httpStatus()).isEqualTo(429);
        assertDeniedBy(d, f.holder(VIRTUAL_KEY), Metric.REQUESTS, 2, 2);
        assertThat(d.deniedBy().orElseThrow().window()).isEqualTo(new Window(HOUR_START.toEpochMilli(),
                HOUR_END.toEpochMilli()));
        assertThat(d.resetAt()).contains(HOUR_END);
        // 29 minutes 59.75 seconds, rounded up
        assertThat(d.retryAfter()).contains(Duration.ofSeconds(1800));
        assertThat(d.headers()).containsExactly(
                Map.entry("Retry-After", "1800"),
                Map.entry("X-RateLimit-Limit", "2"),
                Map.entry("X-RateLimit-Remaining", "0"),
                Map.entry("X-RateLimit-Reset", "1800"));
        assertThat(d.reservation()).isEmpty();
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(2);
        assertThat(f.used(TEAM, Metric.REQUESTS)).isEqualTo(2);
    }

    @Test
    void allowedDecisionShowsTheTightestRequestLimitInItsHeaders() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(5)).limit(TEAM, requests(3)).budget(USER, dollars("1"));
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.ALLOWED);
        assertThat(d.httpStatus()).isEqualTo(200);
        assertThat(d.deniedBy()).isEmpty();
        assertThat(d.resetAt()).isEmpty();
        assertThat(d.reservation()).isPresent();
        assertThat(d.limits()).extracting(LimitUsage::used).containsOnly(0L);
        assertThat(d.headers()).containsExactly(
                Map.entry("X-RateLimit-Limit", "3"),
                Map.entry("X-RateLimit-Remaining", "2"),
                Map.entry("X-RateLimit-Reset", "1800"));
    }

    @Test
    void tokenLimitDeniesOnceUsedReachesMaxAndAcceptsTheChargeThatOvershoots() {
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(100));
        assertThat(f.check().allowed()).isTrue();
        assertThat(f.charge(f.usage("r1").tokens(60))).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(f.check().allowed()).isTrue();
        assertThat(f.charge(f.usage("r2").tokens(60))).isEqualTo(ChargeOutcome.CHARGED);

        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.TOKEN_LIMITED);
        assertThat(d.httpStatus()).isEqualTo(429);
        assertDeniedBy(d, f.holder(VIRTUAL_KEY), Metric.TOKENS, 100, 120);
        assertThat(d.resetAt()).contains(HOUR_END);
    }

    @Test
    void tokenLimitDeniesAtExactlyMax() {
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(100));
        f.charge(f.usage("r1").tokens(99));
        assertThat(f.check().allowed()).isTrue();
        f.charge(f.usage("r2").tokens(1));
        assertThat(f.check().outcome()).isEqualTo(Outcome.TOKEN_LIMITED);
    }

    @Test
    void budgetDeniesOnceSpendReachesMax() {
        Fixture f = fixture().budget(TEAM, dollars("1.00"));
        f.charge(f.usage("r1").cost(Money.parse("0.60")));
        assertThat(f.check().allowed()).isTrue();
        f.charge(f.usage("r2").cost(Money.parse("0.60")));

        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);
        assertThat(d.httpStatus()).isEqualTo(402);
        assertDeniedBy(d, f.holder(TEAM), Metric.COST, 1_000_000_000L, 1_200_000_000L);
        assertThat(d.headers()).containsEntry("Retry-After", "1800")
                .containsEntry("X-RateLimit-Limit", "1000000000")
                .containsEntry("X-RateLimit-Remaining", "0");
    }

    @Test
    void lifetimeBudgetNeverResets() {
        Fixture f = fixture().budget(CUSTOMER, Budget.lifetime(Money.parse("1")));
        f.charge(f.usage("r1").cost(Money.parse("1")));
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);
        assertThat(d.resetAt()).isEmpty();
        assertThat(d.retryAfter()).isEmpty();
        assertThat(d.headers()).containsOnlyKeys("X-RateLimit-Limit", "X-RateLimit-Remaining");
        clock.advance(Duration.ofDays(400));
        assertThat(f.check().outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);
    }

    @Test
    void requestsAndTokensBothFullAreRateLimited() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(1)).limit(USER, tokens(10));
        Decision admitted = f.check();
        f.charge(f.usage("r1").tokens(10).reservation(admitted.reservation().orElseThrow()));
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.RATE_LIMITED);
        assertThat(d.httpStatus()).isEqualTo(429);
        assertDeniedBy(d, f.holder(VIRTUAL_KEY), Metric.REQUESTS, 1, 1);
    }

    @Test
    void requestLimitOutranksAFullBudget() {
        Fixture f = fixture().limit(TEAM, requests(1)).budget(VIRTUAL_KEY, dollars("1"));
        Decision admitted = f.check();
        f.charge(f.usage("r1").cost(Money.parse("1")).reservation(admitted.reservation().orElseThrow()));
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertDeniedBy(d, f.holder(TEAM), Metric.REQUESTS, 1, 1);
    }

    @Test
    void tokenLimitOutranksAFullBudget() {
        Fixture f = fixture().budget(VIRTUAL_KEY, dollars("1")).limit(TEAM, tokens(10));
        f.charge(f.usage("r1").cost(Money.parse("1")).tokens(10));
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.TOKEN_LIMITED);
        assertDeniedBy(d, f.holder(TEAM), Metric.TOKENS, 10, 10);
    }

    @Test
    void firstFailureWinsInOrder() {
        Fixture full = fixture().limit(VIRTUAL_KEY, requests(1)).models(Set.of("gpt-4o"), Set.of());
        assertThat(full.check().allowed()).isTrue();
        assertThat(full.check(b -> b.virtualKey("sk-" + full.tag + "unknown").provider("anthropic")).outcome())
                .isEqualTo(Outcome.VIRTUAL_KEY_NOT_FOUND);
        assertThat(full.check(b -> b.provider("anthropic").model("gpt-3.5")).outcome())
                .isEqualTo(Outcome.PROVIDER_BLOCKED);
        assertThat(full.check(b -> b.model("gpt-3.5")).outcome()).isEqualTo(Outcome.MODEL_BLOCKED);
        assertThat(full.check().outcome()).isEqualTo(Outcome.REQUEST_LIMITED);

        Fixture inactive = fixture().inactive().models(Set.of(), Set.of());
        assertThat(inactive.check(b -> b.provider("anthropic")).outcome()).isEqualTo(Outcome.VIRTUAL_KEY_BLOCKED);
        assertThat(inactive.check().outcome()).isEqualTo(Outcome.VIRTUAL_KEY_BLOCKED);
    }

    @Test
    void requestWithoutVirtualKeyIsLimitedByUserAndModelLevels() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(10)).limit(USER, requests(1))
                .limit(ANY_MODEL_ANY_PROVIDER, requests(10));
        assertThat(f.check(b -> b.virtualKey(null)).allowed()).isTrue();
        Decision d = f.check(b -> b.virtualKey(null));
        assertThat(d.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertDeniedBy(d, f.holder(USER), Metric.REQUESTS, 1, 1);
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isZero();
        assertThat(f.used(ANY_MODEL_ANY_PROVIDER, Metric.REQUESTS)).isEqualTo(1);
    }

    // ---------------------------------------------------------------- every level limits on its own

    @ParameterizedTest
    @EnumSource(Level.class)
    void eachLevelDeniesRequestsWhenItAloneIsFullAndTheDenialTakesNothing(Level level) {
        Fixture f = fixture().everyLevel(requests(100)).limit(level, requests(2));
        assertThat(f.check().allowed()).isTrue();
        assertThat(f.check().allowed()).isTrue();

        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertDeniedBy(d, f.holder(level), Metric.REQUESTS, 2, 2);
        assertThat(d.limits()).hasSize(f.levels().size());
        for (Level each : f.levels()) {
            assertThat(f.used(each, Metric.REQUESTS)).as("requests of %s", each).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Level.class)
    void eachLevelDeniesSpendWhenItsBudgetAloneIsSpent(Level level) {
        Fixture f = fixture().everyLevelBudget(dollars("100")).budget(level, dollars("1"));
        f.charge(f.usage("r1").cost(Money.parse("1")));

        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);
        assertDeniedBy(d, f.holder(level), Metric.COST, 1_000_000_000L, 1_000_000_000L);
        for (Level each : f.levels()) {
            assertThat(f.used(each, Metric.COST)).as("spend of %s", each).isEqualTo(1_000_000_000L);
        }
    }

    // ---------------------------------------------------------------- requests in flight

    @Test
    void anInFlightLimitAdmitsItsMaximumAtOnceAndASlotComesBackWhenARequestEnds() {
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().inFlight(2).build());
        Decision first = f.check();
        Decision second = f.check();
        assertThat(first.allowed()).isTrue();
        assertThat(second.allowed()).isTrue();

        Decision third = f.check();
        assertThat(third.outcome()).isEqualTo(Outcome.IN_FLIGHT_LIMITED);
        assertThat(third.httpStatus()).isEqualTo(429);
        assertThat(third.retryAfter()).isPresent();
        assertThat(used(f.holder(VIRTUAL_KEY), Metric.IN_FLIGHT, WindowSpec.unbounded())).isEqualTo(2);

        // a chunk that does not end the stream keeps the slot
        assertThat(f.charge(f.usage("r1").chunk(0).part(CallPart.CHUNK_WITH_USAGE).tokens(5)
                .reservation(first.reservation().orElseThrow()))).isEqualTo(ChargeOutcome.NOTHING_TO_CHARGE);
        assertThat(f.check().outcome()).isEqualTo(Outcome.IN_FLIGHT_LIMITED);
        // the final one gives it back
        f.charge(f.usage("r1").chunk(1).part(CallPart.LAST_CHUNK_WITH_USAGE).tokens(5).reservation(first.reservation().orElseThrow()));
        assertThat(used(f.holder(VIRTUAL_KEY), Metric.IN_FLIGHT, WindowSpec.unbounded())).isEqualTo(1);
        assertThat(f.check().allowed()).isTrue();
        assertThat(f.check().outcome()).isEqualTo(Outcome.IN_FLIGHT_LIMITED);
    }

    @Test
    void anInFlightSlotWhoseRequestNeverEndsComesBackWhenItsLeaseExpires() {
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().inFlight(1).build());
        assertThat(f.check().allowed()).isTrue();
        assertThat(f.check().outcome()).isEqualTo(Outcome.IN_FLIGHT_LIMITED);

        clock.advance(store.leaseDuration().plusSeconds(1));

        assertThat(f.check().allowed()).isTrue();
        assertThat(used(f.holder(VIRTUAL_KEY), Metric.IN_FLIGHT, WindowSpec.unbounded())).isEqualTo(1);
    }

    @Test
    void inFlightIsNeverPassedUnderConcurrencyAndEndsAtZero() throws Exception {
        int max = 5;
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().inFlight(max).build())
                .limit(TEAM, RateLimit.builder().inFlight(max + 2).build());
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        int admitted = admitted(16, 2_000, i -> {
            Decision decision = f.check();
            if (decision.allowed()) {
                // measured between the admission and the charge, inside the time the store held the slot
                most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                Thread.yield();
                inFlight.decrementAndGet();
                f.charge(f.usage("c" + i).tokens(1).reservation(decision.reservation().orElseThrow()));
            }
            return decision;
        });

        assertThat(most.get()).as("requests in flight at once, as the test saw them").isBetween(1, max);
        assertThat(admitted).isPositive();
        assertThat(used(f.holder(VIRTUAL_KEY), Metric.IN_FLIGHT, WindowSpec.unbounded())).isZero();
        assertThat(used(f.holder(TEAM), Metric.IN_FLIGHT, WindowSpec.unbounded())).isZero();
    }

    @Test
    void aStreamClosedBeforeItsEndKeepsWhatItsChunksChargedAndGivesBackWhatTheCheckHeld() {
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().tokens(1_000, HOUR).inFlight(1).build());
        Decision first = f.check(b -> b.estimatedTokens(100));
        assertThat(f.check().outcome()).isEqualTo(Outcome.IN_FLIGHT_LIMITED);

        try (UsageStream stream = f.tracker().openStream(first, f.tag + "r1")) {
            assertThat(stream.charge(30, Money.ZERO)).isEqualTo(ChargeOutcome.CHARGED);
            assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).as("estimate and chunk").isEqualTo(130);
        }
        // the same chunk again, from another replica's tracker: counted once
        UsageTracker otherReplica = UsageTracker.create(store, f.config());
        assertThat(otherReplica.charge(f.usage("r1").chunk(0).part(CallPart.CHUNK_WITH_USAGE).tokens(30)
                .reservation(first.reservation().orElseThrow()).build())).isEqualTo(ChargeOutcome.DUPLICATE);

        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(30);
        assertThat(used(f.holder(VIRTUAL_KEY), Metric.IN_FLIGHT, WindowSpec.unbounded())).isZero();
        assertThat(f.check().allowed()).isTrue();
    }

    @Test
    void inFlightCountersStayOutOfSnapshots() {
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().requests(10, HOUR).inFlight(3).build());
        assertThat(f.check().allowed()).isTrue();

        assertThat(store.changes().counters()).extracting(snapshot -> snapshot.counter().metric())
                .contains(Metric.REQUESTS).doesNotContain(Metric.IN_FLIGHT);
    }

    // ---------------------------------------------------------------- concurrency

    @Test
    void requestLimitIsExactUnderConcurrency() throws Exception {
        Fixture f = fixture().everyLevel(requests(1_000));
        CheckRequest request = f.request().build();
        assertThat(admitted(16, 5_000, i -> f.resolver().check(request))).isEqualTo(1_000);
        for (Level level : f.levels()) {
            assertThat(f.used(level, Metric.REQUESTS)).as("requests of %s", level).isEqualTo(1_000);
        }
    }

    @Test
    void twoKeysOfOneTeamShareTheTeamLimitExactlyUnderConcurrency() throws Exception {
        Fixture f = fixture().secondKey().limit(VIRTUAL_KEY, requests(5_000)).limit(TEAM, requests(1_000))
                .limit(CUSTOMER, requests(5_000));
        CheckRequest first = f.request().build();
        CheckRequest second = f.request().virtualKey(f.secret2).build();
        assertThat(admitted(16, 5_000, i -> f.resolver().check(i % 2 == 0 ? first : second))).isEqualTo(1_000);

        assertThat(f.used(TEAM, Metric.REQUESTS)).isEqualTo(1_000);
        assertThat(f.used(CUSTOMER, Metric.REQUESTS)).isEqualTo(1_000);
        long firstKey = used(Holder.virtualKey(f.vkId), Metric.REQUESTS, HOUR);
        long secondKey = used(Holder.virtualKey(f.vk2Id), Metric.REQUESTS, HOUR);
        assertThat(firstKey + secondKey).isEqualTo(1_000);
        assertThat(firstKey).isPositive();
        assertThat(secondKey).isPositive();
    }

    // ---------------------------------------------------------------- estimates

    @Test
    void tokenEstimateIsReservedAtCheckAndSettledByTheCharge() {
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().requests(10, HOUR).tokens(100, HOUR).build());
        Decision first = f.check(b -> b.estimatedTokens(60));
        assertThat(first.allowed()).isTrue();
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(60);

        Decision tooBig = f.check(b -> b.estimatedTokens(41));
        assertThat(tooBig.outcome()).isEqualTo(Outcome.TOKEN_LIMITED);
        assertDeniedBy(tooBig, f.holder(VIRTUAL_KEY), Metric.TOKENS, 100, 60);
        Decision second = f.check(b -> b.estimatedTokens(40));
        assertThat(second.allowed()).isTrue();
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(100);

        f.charge(f.usage("r1").tokens(10).reservation(first.reservation().orElseThrow()));
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(50);
        f.charge(f.usage("r2").tokens(45).reservation(second.reservation().orElseThrow()));
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(55);
        // two admitted checks, one denied check, two charges: the request was counted at check time only
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(2);
    }

    @Test
    void costEstimateIsReservedAtCheckAndSettledByTheCharge() {
        Fixture f = fixture().budget(TEAM, dollars("1.00"));
        Decision first = f.check(b -> b.estimatedCost(Money.parse("0.70")));
        assertThat(first.allowed()).isTrue();
        assertThat(f.check(b -> b.estimatedCost(Money.parse("0.31"))).outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);

        f.charge(f.usage("r1").cost(Money.parse("0.10")).reservation(first.reservation().orElseThrow()));
        assertThat(f.used(TEAM, Metric.COST)).isEqualTo(100_000_000L);
        assertThat(f.check(b -> b.estimatedCost(Money.parse("0.90"))).allowed()).isTrue();
    }

    @Test
    void settlementAfterTheWindowRolledGivesTheEstimateBackToTheWindowItCameFrom() {
        clock.set(HOUR_END.minusSeconds(1));
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(100));
        Decision checked = f.check(b -> b.estimatedTokens(60));
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(60);

        clock.set(HOUR_END.plusSeconds(1));
        f.charge(f.usage("r1").tokens(10).reservation(checked.reservation().orElseThrow()));
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(10);
        CounterId counter = new CounterId(f.holder(VIRTUAL_KEY), Metric.TOKENS, HOUR.id());
        assertThat(mine(store.changes(), f.tag))
                .containsEntry(snapshotKey(counter, HOUR.windowAt(HOUR_START.toEpochMilli())), 0L)
                .containsEntry(snapshotKey(counter, HOUR.windowAt(HOUR_END.toEpochMilli())), 10L);
    }

    // ---------------------------------------------------------------- leases

    @Test
    void aReservationNobodySettlesIsGivenBackWhenItsLeaseExpires() {
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().requests(10, HOUR).tokens(100, HOUR).build());
        assertThat(f.check(b -> b.estimatedTokens(100)).allowed()).isTrue();
        assertThat(f.check(b -> b.estimatedTokens(1)).outcome()).isEqualTo(Outcome.TOKEN_LIMITED);

        clock.advance(store.leaseDuration().minusSeconds(1));
        assertThat(f.check(b -> b.estimatedTokens(1)).outcome()).isEqualTo(Outcome.TOKEN_LIMITED);

        clock.advance(Duration.ofSeconds(2));
        Decision after = f.check(b -> b.estimatedTokens(100));
        assertThat(after.allowed()).isTrue();
        assertThat(after.limits().get(1).used()).isZero();
        // the two admitted checks keep their request slots: only what the lease held goes back
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(2);
    }

    @Test
    void aSettleAfterTheLeaseExpiredDoesNotGiveBackTwice() {
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(1_000));
        Decision checked = f.check(b -> b.estimatedTokens(600));
        clock.advance(store.leaseDuration().plusSeconds(1));
        Decision other = f.check(b -> b.estimatedTokens(500));
        assertThat(other.allowed()).isTrue();
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(500);

        f.charge(f.usage("late").tokens(30).reservation(checked.reservation().orElseThrow()));
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(530);
    }

    @Test
    void aLeaseIsGivenBackOnceWhateverSettlesItTwice() {
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(1_000));
        Decision first = f.check(b -> b.estimatedTokens(300));
        Decision second = f.check(b -> b.estimatedTokens(200));
        Reservation reservation = first.reservation().orElseThrow();

        f.charge(f.usage("once").tokens(10).reservation(reservation));
        f.charge(f.usage("again").tokens(10).reservation(reservation));
        // 200 still held by the second check, 10 + 10 charged, 300 given back once
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(220);
        assertThat(second.allowed()).isTrue();
    }

    @Test
    void anExtendedLeaseHoldsOnForAWholeLeaseFromTheExtension() {
        Limit limit = tokenLimit(unique(), 1_000);
        String lease = join(store.reserve(List.of(CounterOp.hold(limit, 400)))).lease();
        assertThat(lease).isNotNull();
        Duration lifetime = store.leaseDuration();

        clock.advance(lifetime.dividedBy(2));
        assertThat(join(store.extendLease(lease))).isTrue();
        // a lease and a quarter since the reservation, three quarters since the extension
        clock.advance(lifetime.multipliedBy(3).dividedBy(4));
        assertThat(usedSeenByAReservation(limit)).isEqualTo(400);

        clock.advance(lifetime.dividedBy(2));
        assertThat(usedSeenByAReservation(limit)).isZero();
        assertThat(join(store.extendLease(lease))).isFalse();
    }

    @Test
    void extendingALeaseTheStoreNeverIssuedIsRefusedWithFalse() {
        assertThat(join(store.extendLease("no-such-lease-" + unique()))).isFalse();
    }

    @Test
    void aDeniedReservationTakesNoLease() {
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(10));
        Decision denied = f.check(b -> b.estimatedTokens(11));
        assertThat(denied.outcome()).isEqualTo(Outcome.TOKEN_LIMITED);
        assertThat(denied.reservation()).isEmpty();
        assertThat(join(store.reserve(List.of(CounterOp.take(tokenLimit(unique(), 10), 1)))).lease()).isNull();
    }

    // ---------------------------------------------------------------- windows

    @Test
    void countersStartFromZeroInANewWindowAndTheOldValueStaysVisible() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(2));
        f.check();
        f.check();
        assertThat(f.check().resetAt()).contains(HOUR_END);

        clock.set(HOUR_END.plusSeconds(1));
        Decision d = f.check();
        assertThat(d.allowed()).isTrue();
        assertThat(d.limits().get(0).used()).isZero();
        assertThat(d.limits().get(0).window().start()).isEqualTo(HOUR_END);

        CounterId counter = new CounterId(f.holder(VIRTUAL_KEY), Metric.REQUESTS, HOUR.id());
        assertThat(mine(store.changes(), f.tag)).containsEntry(
                        snapshotKey(counter, HOUR.windowAt(HOUR_START.toEpochMilli())), 2L)
                .containsEntry(snapshotKey(counter, HOUR.windowAt(HOUR_END.toEpochMilli())), 1L);
    }

    @ParameterizedTest(name = "{0} has {1} days")
    @CsvSource({"2027-02, 28", "2028-02, 29", "2027-04, 30", "2027-01, 31", "2027-12, 31"})
    void monthlyCalendarBudgetStaysSpentForExactlyItsMonth(YearMonth month, int days) {
        Instant start = month.atDay(1).atStartOfDay(UTC).toInstant();
        Instant end = start.plus(Duration.ofDays(days));
        clock.set(start);
        Fixture f = fixture().budget(VIRTUAL_KEY, Budget.calendar(Money.parse("1"), "1M", UTC));
        assertThat(f.check().allowed()).isTrue();
        f.charge(f.usage("r1").cost(Money.parse("1")));

        clock.set(end.minusMillis(1));
        Decision spent = f.check();
        assertThat(spent.outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);
        assertThat(spent.resetAt()).contains(end);
        assertThat(spent.deniedBy().orElseThrow().window().start()).isEqualTo(start);
        assertThat(spent.retryAfter()).contains(Duration.ofSeconds(1));

        clock.set(end);
        Decision next = f.check();
        assertThat(next.allowed()).isTrue();
        assertThat(next.limits().get(0).used()).isZero();
    }

    @ParameterizedTest(name = "quarter from {0} in {1} has {2} days")
    @CsvSource({"2027-01-01, UTC, 90", "2028-01-01, UTC, 91", "2027-04-01, Asia/Tokyo, 91",
            "2027-10-01, America/New_York, 92"})
    void quarterlyCalendarBudgetStaysSpentForExactlyItsQuarter(LocalDate first, ZoneId zone, int days) {
        Instant start = first.atStartOfDay(zone).toInstant();
        Instant end = first.plusDays(days).atStartOfDay(zone).toInstant();
        assertThat(first.plusDays(days)).isEqualTo(first.plusMonths(3));
        clock.set(start.plus(Duration.ofDays(10)));
        Fixture f = fixture().budget(TEAM, Budget.calendar(Money.parse("1"), "1Q", zone));
        f.charge(f.usage("r1").cost(Money.parse("1")));

        clock.set(end.minusMillis(1));
        Decision spent = f.check();
        assertThat(spent.outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);
        assertThat(spent.deniedBy().orElseThrow().window()).isEqualTo(new Window(start.toEpochMilli(),
                end.toEpochMilli()));
        clock.set(end);
        assertThat(f.check().allowed()).isTrue();
    }

    @ParameterizedTest(name = "{0} in Paris lasts {1} hours")
    @CsvSource({"2027-03-28, 23", "2027-10-31, 25", "2027-03-27, 24"})
    void dailyCalendarWindowInADstZoneLastsTheLocalDay(LocalDate day, int hours) {
        Instant start = day.atStartOfDay(PARIS).toInstant();
        Instant end = start.plus(Duration.ofHours(hours));
        clock.set(start.plus(Duration.ofHours(1)));
        WindowSpec daily = WindowSpec.calendar(ResetPeriod.parse("1d"), PARIS);
        Fixture f = fixture().limit(USER, RateLimit.builder().requests(1, daily).build());
        assertThat(f.check().allowed()).isTrue();

        clock.set(end.minusMillis(1));
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertThat(d.deniedBy().orElseThrow().window()).isEqualTo(new Window(start.toEpochMilli(), end.toEpochMilli()));
        assertThat(d.resetAt()).contains(end);

        clock.set(end);
        assertThat(f.check().allowed()).isTrue();
        assertThat(used(f.holder(USER), Metric.REQUESTS, daily)).isEqualTo(1);
    }

    // ---------------------------------------------------------------- money

    @Test
    void hundredThousandMicroChargesSumToAnExactAmount() {
        // the team has one nanodollar more: were the sum off by one nanodollar either way, one of the two would tell
        Fixture f = fixture().budget(VIRTUAL_KEY, dollars("12.3")).budget(TEAM, dollars("12.300000001"));
        Money cost = Money.ofDollars(0.000123);
        List<CompletableFuture<ChargeOutcome>> inFlight = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            inFlight.add(f.tracker().chargeAsync(f.usage("r" + i).cost(cost).build()).toCompletableFuture());
            if (inFlight.size() == 1_000) {
                assertThat(joinAll(inFlight)).containsOnly(ChargeOutcome.CHARGED);
                inFlight.clear();
            }
        }

        assertThat(f.used(VIRTUAL_KEY, Metric.COST)).isEqualTo(12_300_000_000L);
        assertThat(Money.ofNanos(f.used(TEAM, Metric.COST))).hasToString("$12.300000000");
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.BUDGET_EXCEEDED);
        assertDeniedBy(d, f.holder(VIRTUAL_KEY), Metric.COST, 12_300_000_000L, 12_300_000_000L);
        assertThat(d.limits()).filteredOn(u -> u.limit().holder().equals(f.holder(TEAM)))
                .singleElement().extracting(LimitUsage::remaining).isEqualTo(1L);
    }

    // ---------------------------------------------------------------- idempotency

    @Test
    void sameRequestAndChunkIsChargedOnceEvenFromAnotherTracker() {
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().requests(10, HOUR).tokens(1_000, HOUR).build())
                .budget(TEAM, dollars("10"));
        UsageUpdate update = f.usage("r1").tokens(10).cost(Money.parse("0.01")).build();
        assertThat(f.tracker().charge(update)).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(f.tracker().charge(update)).isEqualTo(ChargeOutcome.DUPLICATE);
        assertThat(UsageTracker.create(store, f.config()).charge(update)).isEqualTo(ChargeOutcome.DUPLICATE);

        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(10);
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(1);
        assertThat(f.used(TEAM, Metric.COST)).isEqualTo(10_000_000L);
    }

    /**
     * One rule for every store, standalone and clustered: a request and chunk charged again with other amounts (a
     * configuration changed between two tries, say) is a duplicate, and applies nothing, not even where the first
     * charge did not go.
     */
    @Test
    void theSameRequestAndChunkChargedAgainWithOtherAmountsIsADuplicateAndAppliesNothing() {
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().requests(10, HOUR).tokens(1_000, HOUR).build())
                .budget(TEAM, dollars("10"));
        assertThat(f.tracker().charge(f.usage("r1").tokens(10).build())).isEqualTo(ChargeOutcome.CHARGED);

        assertThat(f.tracker().charge(f.usage("r1").tokens(25).cost(Money.parse("0.02")).build()))
                .isEqualTo(ChargeOutcome.DUPLICATE);

        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(10);
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(1);
        assertThat(f.used(TEAM, Metric.COST)).isZero();
    }

    @Test
    void differentChunksOfOneRequestBothCount() {
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(1_000));
        assertThat(f.charge(f.usage("r1").chunk(0).part(CallPart.CHUNK_WITH_USAGE).tokens(10))).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(f.charge(f.usage("r1").chunk(1).part(CallPart.LAST_CHUNK_WITH_USAGE).tokens(5))).isEqualTo(ChargeOutcome.CHARGED);
        assertThat(f.charge(f.usage("r1").chunk(1).part(CallPart.LAST_CHUNK_WITH_USAGE).tokens(5))).isEqualTo(ChargeOutcome.DUPLICATE);
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(15);
    }

    // ---------------------------------------------------------------- streaming rules

    @Test
    void streamedChunksChargeTokensAndCostOnlyWhenTheyCarryUsage() {
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(1_000)).budget(VIRTUAL_KEY, dollars("10"));
        assertThat(f.charge(f.usage("r1").chunk(0).part(CallPart.CHUNK).tokens(7).cost(Money.parse("1"))))
                .isEqualTo(ChargeOutcome.NOTHING_TO_CHARGE);
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isZero();
        assertThat(f.used(VIRTUAL_KEY, Metric.COST)).isZero();

        f.charge(f.usage("r1").chunk(1).part(CallPart.CHUNK_WITH_USAGE).tokens(7).cost(Money.parse("0.5")));
        f.charge(f.usage("r2").tokens(3).cost(Money.parse("0.25")));
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(10);
        assertThat(f.used(VIRTUAL_KEY, Metric.COST)).isEqualTo(750_000_000L);
    }

    @Test
    void requestIsCountedOnTheFinalChunkWhenNoCheckWasMade() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(10)).limit(TEAM, requests(10));
        f.charge(f.usage("r1").chunk(0).part(CallPart.CHUNK_WITH_USAGE).tokens(1));
        f.charge(f.usage("r1").chunk(1).part(CallPart.CHUNK));
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isZero();
        f.charge(f.usage("r1").chunk(2).part(CallPart.LAST_CHUNK));
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(1);
        assertThat(f.used(TEAM, Metric.REQUESTS)).isEqualTo(1);

        f.charge(f.usage("r2"));
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(2);
    }

    @Test
    void requestIsNeverCountedTwiceWhenACheckWasMade() {
        Fixture f = fixture().limit(VIRTUAL_KEY, RateLimit.builder().requests(10, HOUR).tokens(1_000, HOUR).build());
        Decision checked = f.check(b -> b.estimatedTokens(100));
        UsageUpdate.Builder chunk0 = f.usage("r1").chunk(0).part(CallPart.CHUNK_WITH_USAGE).tokens(30);
        f.charge(chunk0.reservation(checked.reservation().orElseThrow()));
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(130);
        f.charge(f.usage("r1").chunk(1).part(CallPart.LAST_CHUNK_WITH_USAGE).tokens(20)
                .reservation(checked.reservation().orElseThrow()));

        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(1);
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(50);

        Decision plain = f.check();
        f.charge(f.usage("r2").tokens(5).reservation(plain.reservation().orElseThrow()));
        assertThat(f.used(VIRTUAL_KEY, Metric.REQUESTS)).isEqualTo(2);
    }

    @Test
    void failedRequestIsChargedForWhatItConsumed() {
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(1_000)).budget(TEAM, dollars("10"));
        assertThat(f.charge(f.usage("r1").success(false).tokens(12).cost(Money.parse("0.02"))))
                .isEqualTo(ChargeOutcome.CHARGED);
        assertThat(f.used(VIRTUAL_KEY, Metric.TOKENS)).isEqualTo(12);
        assertThat(f.used(TEAM, Metric.COST)).isEqualTo(20_000_000L);
    }

    @Test
    void updateWithoutProviderOrModelSkipsProviderAndModelLevels() {
        Fixture f = fixture().everyLevel(tokens(1_000));
        f.charge(f.usage("r1").provider(null).tokens(3));
        f.charge(f.usage("r2").model(null).tokens(4));
        for (Level level : f.levels()) {
            boolean skipped = level == PROVIDER_CONFIG || level.name().contains("MODEL");
            assertThat(f.used(level, Metric.TOKENS)).as("tokens of %s", level).isEqualTo(skipped ? 0 : 7);
        }
        f.charge(f.usage("r3").tokens(1));
        assertThat(f.used(MODEL_AND_PROVIDER, Metric.TOKENS)).isEqualTo(1);
        assertThat(f.used(PROVIDER_CONFIG, Metric.TOKENS)).isEqualTo(1);
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void negativeOrNaNAmountsAreRejectedNamingTheFieldAndNothingIsApplied() {
        Fixture f = fixture().everyLevel(RateLimit.builder().requests(10, HOUR).tokens(100, HOUR).build());
        assertThatThrownBy(() -> f.usage("r1").tokens(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("UsageUpdate.tokens: -1");
        assertThatThrownBy(() -> f.usage("r1").cost(Money.ofDollars(-0.5)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("UsageUpdate.cost: -$0.5");
        assertThatThrownBy(() -> f.usage("r1").cost(Money.ofDollars(Double.NaN)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NaN");
        assertThatThrownBy(() -> f.request().estimatedTokens(-2).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CheckRequest.estimatedTokens: -2");
        assertThatThrownBy(() -> CounterOp.add(tokenLimit(f.tag + "x", 10), -3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CounterOp.amount: -3");
        for (Level level : f.levels()) {
            assertThat(f.used(level, Metric.REQUESTS) + f.used(level, Metric.TOKENS)).as("%s", level).isZero();
        }
    }

    @Test
    void emptyIdsAndUnknownPeriodsAreRejectedNamingTheValue() {
        Fixture f = fixture();
        assertThatThrownBy(() -> f.usage("r1").requestId("").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("UsageUpdate.requestId");
        assertThatThrownBy(() -> f.usage("r1").requestId(null).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("UsageUpdate.requestId");
        assertThatThrownBy(() -> f.request().user(" ").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CheckRequest.userId");
        assertThatThrownBy(() -> Holder.team(""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Holder.id");
        assertThatThrownBy(() -> RateLimit.builder().requests(5, "1x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"1x\"");
        assertThatThrownBy(() -> Budget.rolling(Money.parse("1"), "0d"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"0d\"");
        assertThatThrownBy(() -> Budget.calendar(Money.parse("1"), "2d", UTC))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"2d\"");
    }

    @Test
    void chargeThatWouldOverflowAppliesNothingAndItsKeyCanBeRetried() {
        String tag = unique();
        Limit nearlyFull = tokenLimit(tag + "nearly-full", Long.MAX_VALUE);
        Limit other = tokenLimit(tag + "other", Long.MAX_VALUE);
        join(store.charge(tag + "fill", List.of(CounterOp.add(nearlyFull, Long.MAX_VALUE - 10))));

        Throwable failure = failureOf(() -> store.charge(tag + "r1",
                List.of(CounterOp.add(other, 5), CounterOp.add(nearlyFull, 11))));
        assertThat(failure.getMessage()).containsIgnoringCase("overflow");
        assertThat(values(nearlyFull, other)).containsExactly(Long.MAX_VALUE - 10, 0L);

        assertThat(join(store.charge(tag + "r1", List.of(CounterOp.add(other, 5), CounterOp.add(nearlyFull, 10)))))
                .isEqualTo(ChargeResult.APPLIED);
        assertThat(values(nearlyFull, other)).containsExactly(Long.MAX_VALUE, 5L);
    }

    @Test
    void listNamingOneCounterTwiceIsRejectedAndAppliesNothing() {
        String tag = unique();
        Limit twice = tokenLimit(tag + "twice", 100);
        Limit other = tokenLimit(tag + "other", 100);
        List<CounterOp> ops = List.of(CounterOp.add(other, 1), CounterOp.add(twice, 1), CounterOp.add(twice, 2));

        assertThat(failureOf(() -> store.reserve(ops)).getMessage()).contains(tag + "twice");
        assertThat(failureOf(() -> store.charge(tag + "r1", ops)).getMessage()).contains(tag + "twice");
        assertThat(values(twice, other)).containsExactly(0L, 0L);
        assertThat(join(store.charge(tag + "r1", List.of(CounterOp.add(twice, 3))))).isEqualTo(ChargeResult.APPLIED);
    }

    // ---------------------------------------------------------------- the SPI itself

    @Test
    void reserveTakesEveryAmountOrNoneAndReportsTheStoreClock() {
        String tag = unique();
        Limit roomy = tokenLimit(tag + "roomy", 100);
        Limit tight = tokenLimit(tag + "tight", 5);
        Window window = HOUR.windowAt(clock.millis());

        ReserveResult taken = join(store.reserve(List.of(CounterOp.take(roomy, 10), CounterOp.take(tight, 5))));
        assertThat(taken.admitted()).isTrue();
        assertThat(taken.storeTimeMillis()).isEqualTo(START.toEpochMilli());
        assertThat(taken.counters())
                .containsExactly(new CounterState(roomy, 0, window), new CounterState(tight, 0, window));

        ReserveResult refused = join(store.reserve(List.of(CounterOp.take(roomy, 10), CounterOp.take(tight, 0))));
        assertThat(refused.admitted()).isFalse();
        assertThat(refused.counters()).extracting(CounterState::used).containsExactly(10L, 5L);
        assertThat(values(roomy, tight)).containsExactly(10L, 5L);
    }

    @Test
    void readReturnsCurrentValuesAndWindowsInOrder() {
        String tag = unique();
        Limit charged = tokenLimit(tag + "charged", 100);
        Limit untouched = tokenLimit(tag + "untouched", 100);
        Limit daily = new Limit(Holder.user(tag + "charged"), Metric.COST, 100, WindowSpec.calendar(
                ResetPeriod.parse("1d"), UTC));
        join(store.charge(tag + "r1", List.of(CounterOp.add(charged, 7), CounterOp.add(daily, 9))));

        List<CounterState> states = join(store.read(List.of(untouched, daily, charged)));
        assertThat(states).containsExactly(
                new CounterState(untouched, 0, HOUR.windowAt(START.toEpochMilli())),
                new CounterState(daily, 9, new Window(Instant.parse("2027-03-10T00:00:00Z").toEpochMilli(),
                        Instant.parse("2027-03-11T00:00:00Z").toEpochMilli())),
                new CounterState(charged, 7, HOUR.windowAt(START.toEpochMilli())));

        clock.set(HOUR_END);
        assertThat(values(charged, daily)).containsExactly(0L, 9L);
    }

    @Test
    void countersAreDistinctPerHolderKindIdMetricAndWindow() {
        String tag = unique();
        List<Limit> limits = new ArrayList<>();
        for (String id : List.of("a", "a:b", "a:b:c", "{a}", "a}{b", "x y", "ünï", "a/b", "*")) {
            limits.add(tokenLimit(tag + id, 1_000));
        }
        limits.add(new Limit(Holder.user(tag + "a"), Metric.TOKENS, 1_000, HOUR));
        limits.add(new Limit(Holder.team(tag + "a"), Metric.COST, 1_000, HOUR));
        limits.add(new Limit(Holder.team(tag + "a"), Metric.TOKENS, 1_000,
                WindowSpec.rolling(ResetPeriod.parse("1d"))));
        List<CounterOp> ops = new ArrayList<>();
        List<Long> expected = new ArrayList<>();
        for (int i = 0; i < limits.size(); i++) {
            ops.add(CounterOp.add(limits.get(i), i + 1));
            expected.add(i + 1L);
        }
        join(store.charge(tag + "r1", ops));
        assertThat(join(store.read(limits))).extracting(CounterState::used).containsExactlyElementsOf(expected);
    }

    @Test
    void changesListAbsoluteValuesOnceEachWithGrowingVersions() {
        String tag = unique();
        Limit a = tokenLimit(tag + "a", 100);
        Limit b = tokenLimit(tag + "b", 100);
        Window window = HOUR.windowAt(clock.millis());
        join(store.charge(tag + "r1", List.of(CounterOp.add(a, 5), CounterOp.add(b, 3))));

        ChangeBatch first = store.changes();
        assertThat(mine(first, tag)).containsExactlyInAnyOrderEntriesOf(Map.of(
                snapshotKey(a.counterId(), window), 5L, snapshotKey(b.counterId(), window), 3L));

        join(store.charge(tag + "r2", List.of(CounterOp.add(a, 2))));
        ChangeBatch second = store.changes();
        assertThat(mine(second, tag)).containsExactly(Map.entry(snapshotKey(a.counterId(), window), 7L));
        assertThat(second.sequence()).isGreaterThan(first.sequence());
        assertThat(version(second, a)).isGreaterThan(version(first, a));
        assertThat(mine(store.changes(), tag)).isEmpty();
    }

    @Test
    void aGivenBackEstimateReachesTheChangesAsALowerValueWithAHigherVersion() {
        Fixture f = fixture().limit(VIRTUAL_KEY, tokens(10_000));
        Decision checked = f.check(b -> b.estimatedTokens(9_000));
        Limit limit = checked.limits().get(0).limit();
        ChangeBatch reserved = store.changes();
        assertThat(mine(reserved, f.tag)).containsValue(9_000L);

        f.charge(f.usage("r1").tokens(100).reservation(checked.reservation().orElseThrow()));
        ChangeBatch settled = store.changes();
        assertThat(mine(settled, f.tag)).containsValue(100L);
        assertThat(version(settled, limit)).isGreaterThan(version(reserved, limit));
    }

    @Test
    void restoreRaisesButNeverLowers() {
        String tag = unique();
        Limit a = tokenLimit(tag + "a", 100);
        Limit fresh = tokenLimit(tag + "fresh", 100);
        Window window = HOUR.windowAt(clock.millis());
        join(store.charge(tag + "r1", List.of(CounterOp.add(a, 5))));

        store.restore(List.of(new CounterSnapshot(a.counterId(), window, 3, 1)));
        assertThat(values(a)).containsExactly(5L);
        Limit lifetime = new Limit(Holder.customer(tag + "lifetime"), Metric.COST, 100, WindowSpec.unbounded());
        store.restore(List.of(new CounterSnapshot(a.counterId(), window, 8, 1),
                new CounterSnapshot(fresh.counterId(), window, 4, 1),
                new CounterSnapshot(lifetime.counterId(), new Window(0, Long.MAX_VALUE), 40, 1)));
        assertThat(values(a, fresh, lifetime)).containsExactly(8L, 4L, 40L);
        assertThat(mine(store.changes(), tag)).containsEntry(snapshotKey(a.counterId(), window), 8L);

        join(store.charge(tag + "r2", List.of(CounterOp.add(a, 1))));
        assertThat(values(a)).containsExactly(9L);
    }

    @Test
    void restoreIgnoresWindowsThatHaveEnded() {
        String tag = unique();
        Limit a = tokenLimit(tag + "a", 100);
        Window current = HOUR.windowAt(clock.millis());
        Window previous = HOUR.windowAt(current.startMillis() - 1);

        store.restore(List.of(new CounterSnapshot(a.counterId(), previous, 7, 1)));
        assertThat(values(a)).containsExactly(0L);
        assertThat(mine(store.changes(), tag)).doesNotContainKey(snapshotKey(a.counterId(), previous));

        clock.set(previous.start().plusSeconds(1));
        assertThat(values(a)).containsExactly(0L);
    }

    @Test
    void restoredCountersAreEnforcedByTheCheck() {
        Fixture f = fixture().limit(VIRTUAL_KEY, requests(3));
        CounterId counter = new CounterId(f.holder(VIRTUAL_KEY), Metric.REQUESTS, HOUR.id());
        store.restore(List.of(new CounterSnapshot(counter, HOUR.windowAt(clock.millis()), 3, 1)));
        Decision d = f.check();
        assertThat(d.outcome()).isEqualTo(Outcome.REQUEST_LIMITED);
        assertDeniedBy(d, f.holder(VIRTUAL_KEY), Metric.REQUESTS, 3, 3);
    }

    // ================================================================ helpers

    /** Where a request's limits come from; the fixture puts limits on any of them. */
    protected enum Level {
        VIRTUAL_KEY,
        PROVIDER_CONFIG,
        TEAM,
        /** The customer of the key's team. */
        CUSTOMER,
        /** The customer, with the key belonging to it directly (no team). */
        CUSTOMER_OF_KEY,
        USER,
        /** A global model config for (model, provider). */
        MODEL_AND_PROVIDER,
        /** A global model config for (model, any provider). */
        MODEL_ANY_PROVIDER,
        /** A global model config for (*, provider). */
        ANY_MODEL_AND_PROVIDER,
        /** A global model config for (*, any provider). */
        ANY_MODEL_ANY_PROVIDER,
        /** A model config scoped to the virtual key. */
        MODEL_OF_KEY,
        /** A model config scoped to the user. */
        MODEL_OF_USER
    }

    protected static RateLimit requests(long max) {
        return RateLimit.builder().requests(max, HOUR).build();
    }

    protected static RateLimit tokens(long max) {
        return RateLimit.builder().tokens(max, HOUR).build();
    }

    protected static Budget dollars(String max) {
        return new Budget(Money.parse(max), HOUR);
    }

    protected static String unique() {
        return "t" + UUID.randomUUID().toString().substring(0, 8) + "-";
    }

    protected Fixture fixture() {
        return new Fixture();
    }

    /** The value of one counter in its current window. */
    protected long used(Holder holder, Metric metric, WindowSpec window) {
        return join(store.read(List.of(new Limit(holder, metric, 1, window)))).get(0).used();
    }

    private List<Long> values(Limit... limits) {
        return join(store.read(List.of(limits))).stream().map(CounterState::used).toList();
    }

    private static Limit tokenLimit(String teamId, long max) {
        return new Limit(Holder.team(teamId), Metric.TOKENS, max, HOUR);
    }

    private static void assertDeniedBy(Decision decision, Holder holder, Metric metric, long max, long used) {
        LimitUsage deniedBy = decision.deniedBy().orElseThrow(() -> new AssertionError("no deniedBy in " + decision));
        assertThat(deniedBy.limit().holder()).isEqualTo(holder);
        assertThat(deniedBy.limit().metric()).isEqualTo(metric);
        assertThat(deniedBy.limit().max()).isEqualTo(max);
        assertThat(deniedBy.used()).isEqualTo(used);
    }

    private static String snapshotKey(CounterId counter, Window window) {
        return counter + "@" + window;
    }

    /** This test's counters in a batch; a shared store may hold other tests' counters too. */
    private static Map<String, Long> mine(ChangeBatch batch, String tag) {
        Map<String, Long> values = new LinkedHashMap<>();
        for (CounterSnapshot snapshot : batch.counters()) {
            if (snapshot.counter().holder().id().startsWith(tag)) {
                Long previous = values.put(snapshotKey(snapshot.counter(), snapshot.window()), snapshot.value());
                assertThat(previous).as("%s listed twice in one batch", snapshot).isNull();
            }
        }
        return values;
    }

    /** The value a reservation taking nothing sees: after the store gave back what expired leases held. */
    private long usedSeenByAReservation(Limit limit) {
        return join(store.reserve(List.of(CounterOp.take(limit, 0)))).counters().get(0).used();
    }

    /** The version of the current window's value of {@code limit} in a batch. */
    private long version(ChangeBatch batch, Limit limit) {
        Window window = limit.window().windowAt(clock.millis());
        return batch.counters().stream()
                .filter(snapshot -> snapshot.counter().equals(limit.counterId()) && snapshot.window().equals(window))
                .mapToLong(CounterSnapshot::version).findFirst()
                .orElseThrow(() -> new AssertionError(limit + " is not in " + batch));
    }

    protected static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("store call failed: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new AssertionError("store call did not complete: " + e, e);
        }
    }

    private static <T> List<T> joinAll(List<CompletableFuture<T>> futures) {
        List<T> results = new ArrayList<>(futures.size());
        for (CompletableFuture<T> future : futures) {
            results.add(join(future));
        }
        return results;
    }

    /** The failure of a call that may throw or return a stage that fails. */
    private static Throwable failureOf(Supplier<CompletionStage<?>> call) {
        CompletionStage<?> stage;
        try {
            stage = call.get();
        } catch (RuntimeException e) {
            return e;
        }
        try {
            Object result = stage.toCompletableFuture().get(PATIENCE_SECONDS, TimeUnit.SECONDS);
            return fail("expected a failure, got " + result);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            while (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            return cause;
        } catch (Exception e) {
            throw new AssertionError("store call did not complete: " + e, e);
        }
    }

    /** How many of {@code attempts} checks, run by {@code threads} threads at once, were admitted. */
    private static int admitted(int threads, int attempts, IntFunction<Decision> check) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            AtomicInteger next = new AtomicInteger();
            AtomicInteger admitted = new AtomicInteger();
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    start.await();
                    for (int i = next.getAndIncrement(); i < attempts; i = next.getAndIncrement()) {
                        if (check.apply(i).allowed()) {
                            admitted.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> worker : workers) {
                worker.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
            }
            return admitted.get();
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * One customer, its team, a virtual key of the team with a provider config, a user and model configs, all with
     * ids of their own, and limits where the test puts them. A request from {@link #request()} passes through every
     * level: key {@code vkId} (secret {@code secret}), provider {@code openai}, model {@code gpt-4o}, user
     * {@code userId}. The configuration is built on first use and fixed from then on.
     */
    protected final class Fixture {
        final String tag = unique();
        final String vkId = tag + "vk";
        final String secret = "sk-" + tag + "secret";
        final String vk2Id = tag + "vk2";
        final String secret2 = "sk-" + tag + "secret2";
        final String teamId = tag + "team";
        final String customerId = tag + "customer";
        final String userId = tag + "user";
        final String provider = "openai";
        final String model = "gpt-4o";

        private final Map<Level, RateLimit> rateLimits = new EnumMap<>(Level.class);
        private final Map<Level, Budget> budgets = new EnumMap<>(Level.class);
        private boolean keyOnCustomer;
        private boolean secondKey;
        private boolean active = true;
        private Instant expiresAt;
        private Set<String> allowedModels = Set.of(ProviderConfig.ANY_MODEL);
        private Set<String> blockedModels = Set.of();
        private GovernanceConfig config;
        private BudgetResolver resolver;
        private UsageTracker tracker;

        /** Sets the rate limit of {@code level}; {@link Level#CUSTOMER_OF_KEY} also moves the key onto the customer. */
        Fixture limit(Level level, RateLimit rateLimit) {
            rateLimits.put(slot(level), rateLimit);
            return this;
        }

        /** Sets the only budget of {@code level}. */
        Fixture budget(Level level, Budget budget) {
            budgets.put(slot(level), budget);
            return this;
        }

        Fixture everyLevel(RateLimit rateLimit) {
            for (Level level : Level.values()) {
                if (level != CUSTOMER_OF_KEY) {
                    rateLimits.put(level, rateLimit);
                }
            }
            return this;
        }

        Fixture everyLevelBudget(Budget budget) {
            for (Level level : Level.values()) {
                if (level != CUSTOMER_OF_KEY) {
                    budgets.put(level, budget);
                }
            }
            return this;
        }

        /** A second key, {@code vk2Id} with {@code secret2}, in the same team with the same limits. */
        Fixture secondKey() {
            unbuilt().secondKey = true;
            return this;
        }

        Fixture inactive() {
            unbuilt().active = false;
            return this;
        }

        Fixture expiresAt(Instant expiresAt) {
            unbuilt().expiresAt = expiresAt;
            return this;
        }

        Fixture models(Set<String> allowed, Set<String> blocked) {
            unbuilt().allowedModels = allowed;
            this.blockedModels = blocked;
            return this;
        }

        /** The levels a request from {@link #request()} passes through, in resolution order. */
        List<Level> levels() {
            List<Level> levels = new ArrayList<>();
            for (Level level : Level.values()) {
                if (level != CUSTOMER_OF_KEY && !(level == TEAM && keyOnCustomer)) {
                    levels.add(level);
                }
            }
            return levels;
        }

        Holder holder(Level level) {
            return switch (level) {
                case VIRTUAL_KEY -> Holder.virtualKey(vkId);
                case PROVIDER_CONFIG -> Holder.providerConfig(vkId, provider);
                case TEAM -> Holder.team(teamId);
                case CUSTOMER, CUSTOMER_OF_KEY -> Holder.customer(customerId);
                case USER -> Holder.user(userId);
                default -> Holder.modelConfig(modelConfigId(level));
            };
        }

        GovernanceConfig config() {
            if (config == null) {
                GovernanceConfig.Builder builder = GovernanceConfig.builder()
                        .customer(new Customer(customerId, budgets(CUSTOMER), rateLimits.get(CUSTOMER)))
                        .team(new Team(teamId, customerId, budgets(TEAM), rateLimits.get(TEAM)))
                        .virtualKey(key(vkId, secret))
                        .user(new User(userId, budgets(USER), rateLimits.get(USER)));
                if (secondKey) {
                    builder.virtualKey(key(vk2Id, secret2));
                }
                for (Level level : Level.values()) {
                    if (level.ordinal() >= MODEL_AND_PROVIDER.ordinal()
                            && (rateLimits.containsKey(level) || budgets.containsKey(level))) {
                        builder.modelConfig(modelConfig(level));
                    }
                }
                config = builder.build();
            }
            return config;
        }

        BudgetResolver resolver() {
            if (resolver == null) {
                GovernanceConfig fixed = config();
                resolver = BudgetResolver.create(store, () -> fixed, clock);
            }
            return resolver;
        }

        UsageTracker tracker() {
            if (tracker == null) {
                tracker = UsageTracker.create(store, config());
            }
            return tracker;
        }

        /** A request through every level. */
        CheckRequest.Builder request() {
            return CheckRequest.builder().virtualKey(secret).user(userId).provider(provider).model(model);
        }

        Decision check() {
            return resolver().check(request().build());
        }

        Decision check(UnaryOperator<CheckRequest.Builder> change) {
            return resolver().check(change.apply(request()).build());
        }

        /** An update of a request through every level, with a request id of this fixture. */
        UsageUpdate.Builder usage(String requestId) {
            return UsageUpdate.builder().virtualKey(secret).user(userId).provider(provider).model(model)
                    .requestId(tag + requestId);
        }

        ChargeOutcome charge(UsageUpdate.Builder update) {
            return tracker().charge(update.build());
        }

        /** The current value of a level's counter of a limit in {@link #HOUR} windows. */
        long used(Level level, Metric metric) {
            return GovernanceStoreContract.this.used(holder(level), metric, HOUR);
        }

        private Level slot(Level level) {
            unbuilt();
            if (level == CUSTOMER_OF_KEY) {
                keyOnCustomer = true;
                return CUSTOMER;
            }
            return level;
        }

        private Fixture unbuilt() {
            if (config != null) {
                throw new IllegalStateException("the fixture's configuration is already in use");
            }
            return this;
        }

        private List<Budget> budgets(Level level) {
            Budget budget = budgets.get(level);
            return budget == null ? List.of() : List.of(budget);
        }

        private VirtualKey key(String id, String secret) {
            VirtualKey.Builder key = VirtualKey.builder(id).secret(secret).active(active).expiresAt(expiresAt)
                    .provider(new ProviderConfig(provider, allowedModels, blockedModels, budgets(PROVIDER_CONFIG),
                            rateLimits.get(PROVIDER_CONFIG)))
                    .rateLimit(rateLimits.get(VIRTUAL_KEY));
            budgets(VIRTUAL_KEY).forEach(key::budget);
            return keyOnCustomer ? key.customer(customerId).build() : key.team(teamId).build();
        }

        private String modelConfigId(Level level) {
            return tag + level.name().toLowerCase(Locale.ROOT);
        }

        private ModelConfig modelConfig(Level level) {
            String id = modelConfigId(level);
            List<Budget> budgets = budgets(level);
            RateLimit rateLimit = rateLimits.get(level);
            return switch (level) {
                case MODEL_AND_PROVIDER -> ModelConfig.global(id, model, provider, budgets, rateLimit);
                case MODEL_ANY_PROVIDER -> ModelConfig.global(id, model, null, budgets, rateLimit);
                case ANY_MODEL_AND_PROVIDER ->
                        ModelConfig.global(id, ModelConfig.ANY_MODEL, provider, budgets, rateLimit);
                case ANY_MODEL_ANY_PROVIDER -> ModelConfig.global(id, ModelConfig.ANY_MODEL, null, budgets, rateLimit);
                case MODEL_OF_KEY -> new ModelConfig(id, model, provider, ModelConfig.Scope.VIRTUAL_KEY, vkId, budgets,
                        rateLimit);
                case MODEL_OF_USER -> new ModelConfig(id, model, provider, ModelConfig.Scope.USER, userId, budgets,
                        rateLimit);
                default -> throw new IllegalArgumentException(level + " is not a model level");
            };
        }
    }
}
