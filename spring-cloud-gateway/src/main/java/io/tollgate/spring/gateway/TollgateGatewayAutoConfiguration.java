package io.tollgate.spring.gateway;

import io.tollgate.spring.webflux.ExchangeGovernor;
import io.tollgate.spring.webflux.TollgateWebFluxAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.context.annotation.Bean;

/** The {@code Tollgate} route filter, and the global filter when {@code tollgate.gateway.global-filter} is true. */
@AutoConfiguration(after = TollgateWebFluxAutoConfiguration.class)
@ConditionalOnClass(GatewayFilter.class)
@ConditionalOnBean(ExchangeGovernor.class)
@EnableConfigurationProperties(TollgateGatewayProperties.class)
public class TollgateGatewayAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public TollgateGatewayFilterFactory tollgateGatewayFilterFactory(ExchangeGovernor governor) {
        return new TollgateGatewayFilterFactory(governor);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = "tollgate.gateway", name = "global-filter", havingValue = "true")
    public TollgateGlobalFilter tollgateGlobalFilter(ExchangeGovernor governor) {
        return new TollgateGlobalFilter(governor);
    }
}
