package io.tollgate.spring.gateway;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** A Spring Cloud Gateway with nothing of its own: routes and Tollgate come from properties. */
@SpringBootApplication
class GatewayApplication {
}
