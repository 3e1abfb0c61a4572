package io.tollgate.spring.gateway;

import org.springframework.boot.context.properties.ConfigurationProperties;

/** Tollgate's Spring Cloud Gateway settings under {@code tollgate.gateway.*}. Not thread-safe: bound once. */
@ConfigurationProperties("tollgate.gateway")
public class TollgateGatewayProperties {

    /** Whether every route is checked (else only routes with the {@code Tollgate} filter). */
    private boolean globalFilter;

    public boolean isGlobalFilter() {
        return globalFilter;
    }

    public void setGlobalFilter(boolean globalFilter) {
        this.globalFilter = globalFilter;
    }
}
