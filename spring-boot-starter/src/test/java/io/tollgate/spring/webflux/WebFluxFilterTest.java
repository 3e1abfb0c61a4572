package io.tollgate.spring.webflux;

import io.tollgate.Holder;
import io.tollgate.Metric;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spring.TollgateConfigSource;
import io.tollgate.spring.testing.HolderCounters;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A WebFlux service that is its own gateway, over real HTTP: the filter checks, answers denials and charges. */
@SpringBootTest(classes = WebFluxFilterTest.Service.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
                "spring.main.web-application-type=reactive",
                "tollgate.headers.per-metric=true",
                "tollgate.prices[0].provider=openai",
                "tollgate.prices[0].input=2.50",
                "tollgate.prices[0].output=10.00",
                "tollgate.filter.default-provider=openai",
                "tollgate.config.inline=virtualKeys: [{id: vk-web, secret: sk-web, rateLimit: {requestMax: 4,"
                        + " requestResetPeriod: 1h, tokenMax: 1000000, tokenResetPeriod: 1h}}]"})
class WebFluxFilterTest {

    @LocalServerPort
    private int port;
    @Autowired
    private GovernanceStore store;
    @Autowired
    private TollgateConfigSource config;

    @Test
    void aServiceAnswerIsChargedWithItsUsageAndTheFifthRequestIsDeniedWithItsHeaders() throws Exception {
        WebTestClient client = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).build();

        EntityExchangeResult<String> json = client.post().uri("/v1/chat/completions")
                .header("Authorization", "Bearer sk-web").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"model\":\"gpt-4o\",\"max_tokens\":500}").exchange()
                .expectBody(String.class).returnResult();
        EntityExchangeResult<String> stream = client.post().uri("/v1/stream")
                .header("Authorization", "Bearer sk-web").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"model\":\"gpt-4o\"}").exchange().expectBody(String.class).returnResult();
        EntityExchangeResult<String> noBody = client.get().uri("/v1/models").header("Authorization", "Bearer sk-web")
                .exchange().expectBody(String.class).returnResult();

        assertThat(json.getStatus()).isEqualTo(HttpStatus.OK);
        assertThat(json.getResponseBody()).as("the body reached the service").contains("gpt-4o");
        assertThat(json.getResponseHeaders().getFirst("x-ratelimit-remaining-requests")).isEqualTo("3");
        assertThat(stream.getStatus()).isEqualTo(HttpStatus.OK);
        assertThat(noBody.getStatus()).isEqualTo(HttpStatus.OK);
        awaitTokens(21 + 7);

        client.post().uri("/v1/chat/completions").header("Authorization", "Bearer sk-web")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{}").exchange().expectStatus().isOk();
        client.post().uri("/v1/chat/completions").header("Authorization", "Bearer sk-web")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{}").exchange()
                .expectStatus().isEqualTo(HttpStatus.TOO_MANY_REQUESTS)
                .expectHeader().exists("Retry-After")
                .expectHeader().valueEquals("x-ratelimit-remaining-requests", "0")
                .expectBody().jsonPath("$.error.code").isEqualTo("request_limited");
        client.post().uri("/v1/chat/completions").contentType(MediaType.APPLICATION_JSON).bodyValue("{}").exchange()
                .expectStatus().isUnauthorized();
        awaitTokens(21 + 7 + 21);
    }

    private void awaitTokens(long expected) throws InterruptedException {
        // 21 tokens of each JSON answer and 7 of the stream, the estimate given back
        HolderCounters.awaitUsed(store, config, Holder.virtualKey("vk-web"), Metric.TOKENS, expected);
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(Service.Endpoints.class)
    static class Service {

        @RestController
        static class Endpoints {

            @PostMapping("/v1/chat/completions")
            Mono<Map<String, Object>> complete(@RequestBody Map<String, Object> request) {
                return Mono.just(Map.of("model", String.valueOf(request.get("model")),
                        "usage", Map.of("prompt_tokens", 20, "completion_tokens", 1, "total_tokens", 21)));
            }

            @PostMapping(path = "/v1/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
            Flux<ServerSentEvent<Object>> stream() {
                return Flux.just(ServerSentEvent.builder((Object) Map.of("choices", List.of(Map.of("delta",
                                Map.of("content", "Hi"))))).build(),
                        ServerSentEvent.builder((Object) Map.of("choices", List.of(), "usage",
                                Map.of("prompt_tokens", 5, "completion_tokens", 2, "total_tokens", 7))).build(),
                        ServerSentEvent.builder((Object) "[DONE]").build());
            }

            @GetMapping("/v1/models")
            Mono<Map<String, Object>> models() {
                return Mono.just(Map.of("data", List.of()));
            }
        }
    }
}
