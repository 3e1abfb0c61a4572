package io.tollgate.spring.web;

import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.Money;
import io.tollgate.UsageTracker;
import io.tollgate.UsageUpdate;
import io.tollgate.usage.ModelPrice;
import io.tollgate.usage.PriceTable;
import io.tollgate.usage.TokenUsage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one charge of an admitted request, made when its answer has ended (complete, failed or cancelled): the tokens
 * the upstream reported, their cost from the price table, and the settle of what the check reserved. Asynchronous:
 * the caller never waits for the store.
 *
 * <p>Thread-safe: {@link #finish} charges once, whichever of the answer's end signals comes first.
 */
public final class UsageCharge {

    private static final Logger LOG = LoggerFactory.getLogger(UsageCharge.class);
    /** The models found without a price, each warned about once. */
    private static final Set<String> UNPRICED = ConcurrentHashMap.newKeySet();

    private final UsageTracker tracker;
    private final PriceTable prices;
    private final CheckRequest check;
    private final Decision decision;
    private final String requestId;
    private final AtomicBoolean finished = new AtomicBoolean();

    public UsageCharge(UsageTracker tracker, PriceTable prices, CheckRequest check, Decision decision,
                       String requestId) {
        this.tracker = tracker;
        this.prices = prices;
        this.check = check;
        this.decision = decision;
        this.requestId = requestId;
    }

    private Money cost(TokenUsage usage) {
        Optional<ModelPrice> price = check.provider() == null || check.model() == null ? Optional.empty()
                : prices.price(check.provider(), check.model());
        if (price.isEmpty()) {
            if (UNPRICED.size() < 1_000 && UNPRICED.add(check.provider() + "/" + check.model())) {
                LOG.warn("Tollgate: no price for provider {} model {} (tollgate.prices): its tokens are counted, "
                        + "its cost is not", check.provider(), check.model());
            }
            return Money.ZERO;
        }
        return price.get().cost(usage);
    }

    /** Charges {@code usage} (none: the request only) once; later calls do nothing. */
    public void finish(Optional<TokenUsage> usage, boolean success) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        try {
            send(usage, success);
        } catch (RuntimeException e) {
            // the answer has gone out already: a charge that cannot be built must not fail it
            LOG.warn("Tollgate: charging request {} failed", requestId, e);
        }
    }

    private void send(Optional<TokenUsage> usage, boolean success) {
        long tokens = usage.map(TokenUsage::totalTokens).orElse(0L);
        Money cost = usage.map(this::cost).orElse(Money.ZERO);
        UsageUpdate update = UsageUpdate.builder()
                .virtualKey(check.virtualKey())
                .user(check.userId())
                .provider(check.provider())
                .model(check.model())
                .success(success)
                .tokens(tokens)
                .cost(cost)
                .requestId(requestId)
                .reservation(decision.reservation().orElse(null))
                .build();
        tracker.chargeAsync(update).whenComplete((outcome, failure) -> {
            if (failure != null) {
                LOG.warn("Tollgate: charging request {} ({} tokens, {}) failed: {}", requestId, tokens, cost,
                        failure.toString());
            }
        });
    }
}
