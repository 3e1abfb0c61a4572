package io.tollgate.spring.servlet;

import io.tollgate.BudgetResolver;
import io.tollgate.UsageTracker;
import io.tollgate.spring.TollgateAutoConfiguration;
import io.tollgate.spring.TollgateHeaders;
import io.tollgate.spring.TollgateProperties;
import io.tollgate.spring.TollgateRequestResolver;
import io.tollgate.usage.PriceTable;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;

/** The {@link TollgateServletFilter} of a servlet application, unless {@code tollgate.filter.enabled} is false. */
@AutoConfiguration(after = TollgateAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(name = {"jakarta.servlet.Filter", "org.springframework.web.filter.OncePerRequestFilter"})
@ConditionalOnProperty(prefix = "tollgate.filter", name = "enabled", havingValue = "true", matchIfMissing = true)
public class TollgateServletAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public FilterRegistrationBean<TollgateServletFilter> tollgateServletFilter(
            BudgetResolver resolver, UsageTracker tracker, TollgateRequestResolver requests, PriceTable prices,
            TollgateProperties properties, TollgateHeaders headers) {
        FilterRegistrationBean<TollgateServletFilter> registration = new FilterRegistrationBean<>(
                new TollgateServletFilter(resolver, tracker, requests, prices, properties.getFilter(), headers));
        registration.setOrder(properties.getFilter().getOrder());
        registration.setAsyncSupported(true);
        return registration;
    }
}
