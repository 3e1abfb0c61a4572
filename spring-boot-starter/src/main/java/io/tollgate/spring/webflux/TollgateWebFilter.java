package io.tollgate.spring.webflux;

import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Checks every request of a WebFlux service that is its own gateway, and charges its answer; see
 * {@link ExchangeGovernor}. In a Spring Cloud Gateway application use the gateway filters instead.
 *
 * <p>Thread-safe.
 */
public final class TollgateWebFilter implements WebFilter, Ordered {

    private final ExchangeGovernor governor;
    private final int order;

    public TollgateWebFilter(ExchangeGovernor governor, int order) {
        this.governor = governor;
        this.order = order;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        return governor.filter(exchange, chain::filter, null, null);
    }

    @Override
    public int getOrder() {
        return order;
    }
}
