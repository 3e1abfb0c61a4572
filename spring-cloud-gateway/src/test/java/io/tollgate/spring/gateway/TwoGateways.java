package io.tollgate.spring.gateway;

import io.tollgate.redis.testing.RedisFixture;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.web.reactive.server.WebTestClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Two gateway instances started on free ports, in this JVM, sharing one Redis of their own, in front of one
 * {@link FakeUpstream}; each with its own Lettuce client, store and filters, as two replicas would be.
 *
 * <p>Not thread-safe: started and closed by one test class.
 */
final class TwoGateways implements AutoCloseable {

    final RedisFixture redis = RedisFixture.start();
    final FakeUpstream upstream;
    final List<ConfigurableApplicationContext> instances = new ArrayList<>();

    TwoGateways(String configYaml, Map<String, String> extraProperties) throws Exception {
        upstream = new FakeUpstream();
        try {
            for (int i = 0; i < 2; i++) {
                Map<String, Object> properties = new LinkedHashMap<>();
                properties.put("server.port", "0");
                properties.put("spring.cloud.gateway.server.webflux.routes[0].id", "llm");
                properties.put("spring.cloud.gateway.server.webflux.routes[0].uri", upstream.uri());
                properties.put("spring.cloud.gateway.server.webflux.routes[0].predicates[0]", "Path=/v1/**");
                properties.put("spring.cloud.gateway.server.webflux.routes[0].filters[0]", "Tollgate=openai");
                properties.put("tollgate.store", "redis");
                properties.put("tollgate.redis.uri", redis.uri().toURI().toString());
                properties.put("tollgate.config.inline", configYaml);
                properties.put("tollgate.prices[0].provider", "openai");
                properties.put("tollgate.prices[0].model", "gpt-4o");
                properties.put("tollgate.prices[0].input", "2.50");
                properties.put("tollgate.prices[0].output", "10.00");
                properties.putAll(extraProperties);
                instances.add(new SpringApplicationBuilder(GatewayApplication.class)
                        .web(WebApplicationType.REACTIVE).properties(properties).run());
            }
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    WebTestClient client(int instance) {
        String port = instances.get(instance).getEnvironment().getProperty("local.server.port");
        return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port)
                .responseTimeout(Duration.ofSeconds(10)).build();
    }

    <T> T bean(int instance, Class<T> type) {
        return instances.get(instance).getBean(type);
    }

    @Override
    public void close() {
        instances.forEach(ConfigurableApplicationContext::close);
        upstream.close();
        redis.close();
    }
}
