package io.tollgate.spring.webflux;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import java.io.IOException;
import java.net.ServerSocket;

/**
 * A Redis store without a resilient store in front, and no Redis listening: the application starts, and the filter
 * refuses with 503 and {@code Retry-After} rather than guess.
 */
@SpringBootTest(classes = StoreDownTest.Service.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
                "spring.main.web-application-type=reactive",
                "tollgate.store=redis",
                "tollgate.resilience.enabled=false",
                "tollgate.config.inline=virtualKeys: [{id: vk-down, secret: sk-down, rateLimit: {requestMax: 10,"
                        + " requestResetPeriod: 1h}}]"})
class StoreDownTest {

    @DynamicPropertySource
    static void unreachableRedis(DynamicPropertyRegistry registry) {
        registry.add("tollgate.redis.uri", () -> "redis://127.0.0.1:" + closedPort());
    }

    @LocalServerPort
    private int port;

    @Test
    void aCheckTheStoreCannotAnswerIsRefusedWith503() {
        WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).build()
                .post().uri("/anything").header("Authorization", "Bearer sk-down")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{}").exchange()
                .expectStatus().isEqualTo(HttpStatus.SERVICE_UNAVAILABLE)
                .expectHeader().valueEquals("Retry-After", "1")
                .expectBody().jsonPath("$.error.code").isEqualTo("store_unavailable");
    }

    /** A port nothing listens on: bound, then released. */
    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class Service {
    }
}
