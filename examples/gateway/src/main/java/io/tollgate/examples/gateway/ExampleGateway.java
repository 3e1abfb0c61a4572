package io.tollgate.examples.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Cloud Gateway in front of an LLM provider, with Tollgate on its route: everything comes from
 * {@code application.yaml} (the route, Redis, prices) and {@code limits.yaml} (virtual keys and their limits). Run two
 * of them on two ports over one Redis and they enforce the limits as one.
 */
@SpringBootApplication
public class ExampleGateway {

    public static void main(String[] args) {
        SpringApplication.run(ExampleGateway.class, args);
    }
}
