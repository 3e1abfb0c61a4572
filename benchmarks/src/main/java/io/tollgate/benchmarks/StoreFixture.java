package io.tollgate.benchmarks;

import io.tollgate.Budget;
import io.tollgate.BudgetResolver;
import io.tollgate.ChargeOutcome;
import io.tollgate.CheckRequest;
import io.tollgate.Customer;
import io.tollgate.Decision;
import io.tollgate.GovernanceConfig;
import io.tollgate.ModelConfig;
import io.tollgate.Money;
import io.tollgate.ProviderConfig;
import io.tollgate.RateLimit;
import io.tollgate.Team;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.User;
import io.tollgate.VirtualKey;
import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.GovernanceStore;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The one facade the benchmarks use: a store of the given kind ({@value #MEMORY} or {@value #REDIS}) with a
 * {@link BudgetResolver} and a {@link UsageTracker} over a hierarchy whose requests touch 1, 3 or 7 levels. Every
 * level holds a request limit, a token limit and a budget (three counters), all far too large to deny, so a
 * benchmark measures admitted requests only: a check takes the request slots and reads the rest, a check with
 * estimates takes every counter, a charge adds to every counter.
 *
 * <ul>
 *   <li>1 level: the virtual key.</li>
 *   <li>3 levels: the virtual key, its team, the team's customer.</li>
 *   <li>7 levels: the virtual key, its provider config, team, customer, the user, and two global model configs
 *       (the model at the provider, and every model at the provider).</li>
 * </ul>
 *
 * <p>The Redis store connects to {@link RedisLauncher#configuredUri()} or, when none is set, to a
 * {@code redis-server} it starts and stops itself.
 *
 * <p>Thread-safe once opened: the check and charge paths may be called from any number of threads.
 */
public final class StoreFixture implements AutoCloseable {

    public static final String MEMORY = "memory";
    public static final String REDIS = "redis";

    static final String SECRET = "tg-benchmark-key";
    static final String PROVIDER = "openai";
    static final String MODEL = "gpt-4o";
    static final String USER = "bench-user";

    private static final long HUGE = 1_000_000_000_000_000L;
    private static final long TOKENS_PER_CALL = 120;
    private static final Money COST_PER_CALL = Money.ofNanos(1_500);

    private final String kind;
    private final int levels;
    private final GovernanceStore store;
    private final RedisBackend redis;
    private final BudgetResolver resolver;
    private final UsageTracker tracker;
    private final CheckRequest checkRequest;
    private final CheckRequest estimatedRequest;

    private StoreFixture(String kind, int levels, GovernanceStore store, RedisBackend redis) {
        GovernanceConfig config = hierarchy(levels);
        this.kind = kind;
        this.levels = levels;
        this.store = redis != null ? redis.store() : store;
        this.redis = redis;
        this.resolver = BudgetResolver.create(this.store, config);
        this.tracker = UsageTracker.create(this.store, config);
        CheckRequest.Builder request = CheckRequest.builder().virtualKey(SECRET).provider(PROVIDER).model(MODEL);
        if (levels >= 7) {
            request.user(USER);
        }
        this.checkRequest = request.build();
        this.estimatedRequest = request.estimatedTokens(TOKENS_PER_CALL).estimatedCost(COST_PER_CALL).build();
    }

    /**
     * Opens a store of {@code kind} over a hierarchy of {@code levels} levels and checks that one request passes.
     *
     * @throws IllegalArgumentException for an unknown kind or a number of levels other than 1, 3 or 7
     */
    public static StoreFixture open(String kind, int levels) {
        requireLevels(levels);
        StoreFixture fixture = switch (kind) {
            case MEMORY -> new StoreFixture(kind, levels, InMemoryGovernanceStore.builder()
                    // Benchmarks charge millions of distinct request ids and hold millions of estimates that no
                    // charge settles: keep the key table and the leases small.
                    .idempotencyKeyLifetime(Duration.ofSeconds(2))
                    .leaseDuration(Duration.ofSeconds(2))
                    .build(), null);
            case REDIS -> new StoreFixture(kind, levels, null, RedisBackend.open());
            default -> throw new IllegalArgumentException("store: \"" + kind + "\" must be \"" + MEMORY + "\" or \""
                    + REDIS + "\"");
        };
        return checked(fixture);
    }

    /** Opens a Redis store fixture on {@code backend}, which it closes on {@link #close()}. */
    static StoreFixture open(RedisBackend backend, int levels) {
        requireLevels(levels);
        return checked(new StoreFixture(REDIS, levels, null, backend));
    }

    private static void requireLevels(int levels) {
        if (levels != 1 && levels != 3 && levels != 7) {
            throw new IllegalArgumentException("levels: " + levels + " must be 1, 3 or 7");
        }
    }

    private static StoreFixture checked(StoreFixture fixture) {
        int levels = fixture.levels;
        String kind = fixture.kind;
        try {
            Decision first = fixture.check();
            if (!first.allowed() || first.limits().size() != 3 * levels) {
                throw new IllegalStateException("the " + kind + " store answered " + first + " with "
                        + first.limits().size() + " limits; expected ALLOWED with " + 3 * levels);
            }
        } catch (RuntimeException e) {
            fixture.close();
            throw e;
        }
        return fixture;
    }

    /** The hierarchy whose requests touch {@code levels} levels (1, 3 or 7), three counters per level. */
    static GovernanceConfig hierarchy(int levels) {
        GovernanceConfig.Builder config = GovernanceConfig.builder();
        VirtualKey.Builder key = VirtualKey.builder("bench-vk").secret(SECRET).rateLimit(rate()).budget(budget());
        if (levels >= 3) {
            config.customer(new Customer("bench-customer", List.of(budget()), rate()));
            config.team(new Team("bench-team", "bench-customer", List.of(budget()), rate()));
            key.team("bench-team");
        }
        if (levels >= 7) {
            key.provider(new ProviderConfig(PROVIDER, Set.of(ProviderConfig.ANY_MODEL), Set.of(), List.of(budget()),
                    rate()));
            config.user(new User(USER, List.of(budget()), rate()));
            config.modelConfig(ModelConfig.global("bench-model", MODEL, PROVIDER, List.of(budget()), rate()));
            config.modelConfig(ModelConfig.global("bench-provider", ModelConfig.ANY_MODEL, PROVIDER,
                    List.of(budget()), rate()));
        }
        return config.virtualKey(key.build()).build();
    }

    private static RateLimit rate() {
        return RateLimit.builder().requests(HUGE, "1h").tokens(HUGE, "1h").build();
    }

    private static Budget budget() {
        return Budget.rolling(Money.ofNanos(HUGE), "1d");
    }

    /** One check of the fixed request: a request slot taken at every level, tokens and cost read. */
    public Decision check() {
        return resolver.check(checkRequest);
    }

    /**
     * One check of the fixed request with token and cost estimates: every counter taken, the estimates held under a
     * lease that nobody settles (each stays held until its lease expires).
     */
    public Decision checkWithEstimates() {
        return resolver.check(estimatedRequest);
    }

    /**
     * One charge of a finished call that was not checked first: tokens, cost and the request at every level, under
     * the idempotency key {@code requestId}.
     */
    public ChargeOutcome charge(String requestId) {
        UsageUpdate.Builder update = UsageUpdate.builder().virtualKey(SECRET).provider(PROVIDER).model(MODEL)
                .tokens(TOKENS_PER_CALL).cost(COST_PER_CALL).requestId(requestId);
        if (levels >= 7) {
            update.user(USER);
        }
        return tracker.charge(update.build());
    }

    public String kind() {
        return kind;
    }

    public int levels() {
        return levels;
    }

    public GovernanceStore store() {
        return store;
    }

    /** The Redis side of a {@value #REDIS} fixture: the store's own connection, for the floor benchmarks. */
    public RedisBackend redis() {
        if (redis == null) {
            throw new IllegalStateException("store: \"" + kind + "\" has no Redis connection");
        }
        return redis;
    }

    @Override
    public void close() {
        if (redis != null) {
            redis.close();
        } else {
            store.close();
        }
    }
}
