package io.tollgate.examples.upstream;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for an OpenAI-style provider, on port 9000: {@code POST /v1/chat/completions} answers JSON with its
 * {@code usage}, or, for {@code "stream": true}, server-sent events whose last chunk carries the usage. It counts a
 * token per word of the prompt and answers five words. It lives in a package of its own, so that the gateway's
 * component scan never finds it.
 */
@SpringBootApplication
public class FakeLlmUpstream {

    private static final List<String> ANSWER = List.of("Tollgate", " counted", " every", " token", ".");

    public static void main(String[] args) {
        SpringApplication upstream = new SpringApplication(FakeLlmUpstream.class);
        upstream.setWebApplicationType(WebApplicationType.REACTIVE);
        // the same jar holds the gateway: this process is none
        upstream.setDefaultProperties(Map.of("server.port", "9000", "spring.config.name", "upstream",
                "spring.cloud.gateway.server.webflux.enabled", "false", "tollgate.filter.enabled", "false"));
        upstream.run(args);
    }

    /** The one endpoint. */
    @RestController
    static class Completions {

        @PostMapping("/v1/chat/completions")
        public ResponseEntity<?> complete(@RequestBody Map<String, Object> request) {
            Map<String, Object> usage = usage(request);
            if (Boolean.TRUE.equals(request.get("stream"))) {
                Flux<ServerSentEvent<Object>> words = Flux.fromIterable(ANSWER).delayElements(Duration.ofMillis(50))
                        .map(word -> ServerSentEvent.builder((Object) Map.of("object", "chat.completion.chunk",
                                "choices", List.of(Map.of("index", 0, "delta", Map.of("content", word))))).build());
                Flux<ServerSentEvent<Object>> last = Flux.just(
                        ServerSentEvent.builder((Object) Map.of("object", "chat.completion.chunk", "choices", List.of(),
                                "usage", usage)).build(),
                        ServerSentEvent.builder((Object) "[DONE]").build());
                // a stream whatever the client accepts, as the providers answer
                return ResponseEntity.ok().contentType(MediaType.TEXT_EVENT_STREAM).body(words.concatWith(last));
            }
            Map<String, Object> answer = Map.of("object", "chat.completion",
                    "model", String.valueOf(request.get("model")),
                    "choices", List.of(Map.of("index", 0, "message",
                            Map.of("role", "assistant", "content", String.join("", ANSWER)))),
                    "usage", usage);
            return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(Mono.just(answer));
        }

        private static Map<String, Object> usage(Map<String, Object> request) {
            int prompt = String.valueOf(request.get("messages")).split("\\s+").length;
            int completion = ANSWER.size();
            return Map.of("prompt_tokens", prompt, "completion_tokens", completion,
                    "total_tokens", prompt + completion);
        }
    }
}
