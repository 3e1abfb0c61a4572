package io.tollgate.spring.gateway;

import io.tollgate.spring.webflux.ExchangeGovernor;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

import java.util.Map;

/**
 * The {@code Tollgate} filter on every route ({@code tollgate.gateway.global-filter: true}); a route's metadata
 * {@code tollgate-provider} and {@code tollgate-model} name its provider and model. A route that also has the route
 * filter is checked once.
 *
 * <p>Thread-safe.
 */
public class TollgateGlobalFilter implements GlobalFilter, Ordered {

    /** Route metadata naming the route's provider. */
    public static final String PROVIDER_METADATA = "tollgate-provider";
    /** Route metadata naming the route's model. */
    public static final String MODEL_METADATA = "tollgate-model";

    private final ExchangeGovernor governor;

    public TollgateGlobalFilter(ExchangeGovernor governor) {
        this.governor = governor;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
        Route route = exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
        Map<String, Object> metadata = route == null ? Map.of() : route.getMetadata();
        return governor.filter(exchange, chain::filter, text(metadata.get(PROVIDER_METADATA)),
                text(metadata.get(MODEL_METADATA)));
    }

    private static String text(Object value) {
        return value == null || value.toString().isBlank() ? null : value.toString().trim();
    }

    @Override
    public int getOrder() {
        return TollgateGatewayFilterFactory.ORDER;
    }
}
