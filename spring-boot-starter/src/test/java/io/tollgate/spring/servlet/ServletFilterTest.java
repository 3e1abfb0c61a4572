package io.tollgate.spring.servlet;

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
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** A servlet service that is its own gateway, over real HTTP: the filter checks, answers denials and charges. */
@SpringBootTest(classes = ServletFilterTest.Service.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
                "spring.main.web-application-type=servlet",
                "tollgate.config.inline=virtualKeys: [{id: vk-mvc, secret: sk-mvc, rateLimit: {requestMax: 3,"
                        + " requestResetPeriod: 1h, tokenMax: 1000000, tokenResetPeriod: 1h}}]"})
class ServletFilterTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    private int port;
    @Autowired
    private GovernanceStore store;
    @Autowired
    private TollgateConfigSource config;

    @Test
    void aJsonAnswerAndAnAsynchronousStreamAreChargedAndTheFourthRequestIsDenied() throws Exception {
        HttpResponse<String> json = post("/v1/chat/completions", "sk-mvc", "{\"model\":\"gpt-4o\",\"max_tokens\":9}");
        HttpResponse<String> stream = post("/v1/stream", "sk-mvc", "{\"model\":\"gpt-4o\"}");

        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(json.body()).as("the body reached the service").contains("gpt-4o");
        assertThat(json.headers().firstValue("X-RateLimit-Remaining")).contains("2");
        assertThat(stream.statusCode()).isEqualTo(200);
        assertThat(stream.body()).contains("[DONE]");
        awaitTokens(31 + 8);

        assertThat(post("/v1/chat/completions", "sk-mvc", "{}").statusCode()).isEqualTo(200);
        HttpResponse<String> denied = post("/v1/chat/completions", "sk-mvc", "{}");
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(denied.headers().firstValue("Retry-After")).isPresent();
        assertThat(denied.body()).contains("request_limited");
        assertThat(post("/v1/chat/completions", null, "{}").statusCode()).isEqualTo(401);
        awaitTokens(31 + 8 + 31);
    }

    private HttpResponse<String> post(String path, String secret, String body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (secret != null) {
            request.header("Authorization", "Bearer " + secret);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private void awaitTokens(long expected) throws InterruptedException {
        // 31 tokens of each JSON answer, 8 of the stream
        HolderCounters.awaitUsed(store, config, Holder.virtualKey("vk-mvc"), Metric.TOKENS, expected);
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(Service.Endpoints.class)
    static class Service {

        @RestController
        static class Endpoints {

            @PostMapping("/v1/chat/completions")
            Map<String, Object> complete(@RequestBody Map<String, Object> request) {
                return Map.of("model", String.valueOf(request.get("model")),
                        "usage", Map.of("prompt_tokens", 30, "completion_tokens", 1, "total_tokens", 31));
            }

            @PostMapping(path = "/v1/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
            SseEmitter stream() {
                SseEmitter emitter = new SseEmitter();
                CompletableFuture.runAsync(() -> {
                    try {
                        emitter.send(SseEmitter.event().data("{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"));
                        emitter.send(SseEmitter.event().data("{\"choices\":[],\"usage\":{\"prompt_tokens\":6,"
                                + "\"completion_tokens\":2,\"total_tokens\":8}}"));
                        emitter.send(SseEmitter.event().data("[DONE]"));
                        emitter.complete();
                    } catch (IOException e) {
                        emitter.completeWithError(e);
                    }
                });
                return emitter;
            }
        }
    }
}
