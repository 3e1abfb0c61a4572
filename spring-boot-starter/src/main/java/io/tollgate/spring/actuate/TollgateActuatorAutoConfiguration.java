package io.tollgate.spring.actuate;

import io.tollgate.spring.TollgateAutoConfiguration;
import io.tollgate.spring.TollgateConfigSource;
import io.tollgate.spring.TollgateProperties;
import io.tollgate.spring.TollgateStores;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Tollgate's health indicator and actuator endpoint, when the application has Spring Boot's health and actuator. */
@AutoConfiguration(after = TollgateAutoConfiguration.class)
public class TollgateActuatorAutoConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class HealthIndicatorConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "tollgateHealthIndicator")
        TollgateHealthIndicator tollgateHealthIndicator(TollgateStores stores, TollgateConfigSource config,
                                                        TollgateProperties properties) {
            return new TollgateHealthIndicator(stores, config, properties.getResilience().getPolicy());
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class EndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        TollgateEndpoint tollgateEndpoint(TollgateStores stores, TollgateConfigSource config) {
            return new TollgateEndpoint(stores, config);
        }
    }
}
