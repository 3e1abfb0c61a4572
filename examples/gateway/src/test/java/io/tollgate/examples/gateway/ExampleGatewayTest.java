package io.tollgate.examples.gateway;

import io.tollgate.examples.upstream.FakeLlmUpstream;
import io.tollgate.redis.testing.RedisFixture;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The example as its README runs it: the fake upstream, then the gateway with its own application.yaml and limits. */
class ExampleGatewayTest {

    private static final String STREAMED_CHAT = "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[]}";
    private static final String CHAT = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi there\"}]}";

    @Test
    void theExampleGatewayAdmitsFiveRequestsAMinuteForTheDemoKeyAndShowsItsLimits() {
        try (RedisFixture redis = RedisFixture.start();
             ConfigurableApplicationContext upstream = new SpringApplicationBuilder(FakeLlmUpstream.class)
                     .properties("server.port=0", "spring.config.name=upstream",
                             "spring.cloud.gateway.server.webflux.enabled=false",
                             "tollgate.filter.enabled=false")
                     .run();
             ConfigurableApplicationContext gateway = new SpringApplicationBuilder(ExampleGateway.class)
                     .properties("server.port=0",
                             "UPSTREAM_URI=http://127.0.0.1:" + port(upstream),
                             "REDIS_URI=" + redis.uri().toURI(),
                             "LIMITS_FILE=" + Path.of("limits.yaml").toAbsolutePath())
                     .run()) {
            WebTestClient client = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port(gateway)).build();

            EntityExchangeResult<String> streamed = client.post().uri("/v1/chat/completions")
                    .header("Authorization", "Bearer sk-demo").contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(STREAMED_CHAT).exchange().expectBody(String.class).returnResult();
            int admitted = 1;
            EntityExchangeResult<String> last = null;
            for (int i = 0; i < 5; i++) {
                last = client.post().uri("/v1/chat/completions").header("Authorization", "Bearer sk-demo")
                        .contentType(MediaType.APPLICATION_JSON).bodyValue(CHAT).exchange()
                        .expectBody(String.class).returnResult();
                if (last.getStatus() == HttpStatus.OK) {
                    admitted++;
                    assertThat(last.getResponseBody()).contains("\"usage\"");
                }
            }

            assertThat(admitted).isEqualTo(5);
            assertThat(streamed.getResponseBody()).as("a stream, passed through").contains("data:")
                    .contains("\"usage\"").contains("[DONE]");
            assertThat(last.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
            assertThat(last.getResponseHeaders().getFirst("Retry-After")).isNotBlank();
            client.get().uri("/actuator/tollgate/virtual-key/vk-demo").exchange().expectStatus().isOk()
                    .expectBody().jsonPath("$.limits[0].metric").isEqualTo("requests")
                    .jsonPath("$.limits[0].used").isEqualTo(5);
        }
    }

    private static String port(ConfigurableApplicationContext context) {
        return context.getEnvironment().getProperty("local.server.port");
    }
}
