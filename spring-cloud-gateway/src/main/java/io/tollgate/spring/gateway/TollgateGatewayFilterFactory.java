package io.tollgate.spring.gateway;

import io.tollgate.spring.webflux.ExchangeGovernor;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.OrderedGatewayFilter;
import org.springframework.cloud.gateway.filter.factory.AbstractGatewayFilterFactory;

import java.util.List;

/**
 * The route filter {@code Tollgate}: checks a request before it is routed, answers a denial with the decision's
 * status, headers and body, and charges the upstream's usage once its answer has passed through. Arguments, both
 * optional: the route's provider and model (else the request's headers and body say them).
 * <pre>{@code
 * filters:
 *   - Tollgate=openai          # provider openai, model from the request
 *   - name: Tollgate
 *     args: {provider: openai, model: gpt-4o}
 * }</pre>
 * It runs just before the gateway writes the upstream's answer ({@link #ORDER}), so that it sees that answer.
 *
 * <p>Thread-safe.
 */
public class TollgateGatewayFilterFactory extends AbstractGatewayFilterFactory<TollgateGatewayFilterFactory.Config> {

    /** Before {@code NettyWriteResponseFilter} (-1), which writes the upstream's answer through this filter. */
    public static final int ORDER = -2;

    private final ExchangeGovernor governor;

    public TollgateGatewayFilterFactory(ExchangeGovernor governor) {
        super(Config.class);
        this.governor = governor;
    }

    @Override
    public List<String> shortcutFieldOrder() {
        return List.of("provider", "model");
    }

    @Override
    public GatewayFilter apply(Config config) {
        String provider = blankToNull(config.getProvider());
        String model = blankToNull(config.getModel());
        return new OrderedGatewayFilter((exchange, chain) -> governor.filter(exchange, chain::filter, provider, model),
                ORDER);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    /** The filter's arguments. Not thread-safe: bound once per route. */
    public static class Config {

        private String provider;
        private String model;

        public String getProvider() {
            return provider;
        }

        public void setProvider(String provider) {
            this.provider = provider;
        }

        public String getModel() {
            return model;
        }

        public void setModel(String model) {
            this.model = model;
        }
    }
}
