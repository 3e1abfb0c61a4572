package io.tollgate.spring.gateway;

import io.tollgate.Holder;
import io.tollgate.Metric;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spring.TollgateConfigSource;
import io.tollgate.spring.testing.HolderCounters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import reactor.blockhound.BlockHound;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway path never blocks an event-loop thread: with BlockHound watching Reactor Netty's threads and
 * Lettuce's, checks (admitted, denied, refused) and charges of JSON and streamed answers go through, and not one
 * blocking call is seen.
 */
class NoBlockingTest {

    private static final String CONFIG = """
            virtualKeys:
              - id: vk-1
                secret: sk-blockhound
                rateLimit: {requestMax: 3, requestResetPeriod: 1h, tokenMax: 100000, tokenResetPeriod: 1h}
            """;
    private static final List<String> BLOCKING_CALLS = new CopyOnWriteArrayList<>();

    private static TwoGateways gateways;

    @BeforeAll
    static void start() throws Exception {
        BlockHound.builder()
                // Lettuce's event loops besides Reactor Netty's (its timer threads sleep by design)
                .nonBlockingThreadPredicate(current -> current.or(thread -> thread.getName().startsWith("lettuce-")
                        && thread.getName().contains("EventLoop")))
                .blockingMethodCallback(method -> BLOCKING_CALLS.add(method + " on " + Thread.currentThread().getName()))
                .install();
        gateways = new TwoGateways(CONFIG, Map.of());
        BLOCKING_CALLS.clear();
    }

    @AfterAll
    static void stop() {
        gateways.close();
    }

    @Test
    void checksAndChargesOnTheGatewayPathNeverBlockAnEventLoopThread() throws InterruptedException {
        String chat = "{\"model\":\"gpt-4o\",\"messages\":[]}";
        String streamed = "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[]}";
        assertThat(status(0, "sk-blockhound", chat)).isEqualTo(HttpStatus.OK);
        assertThat(status(1, "sk-blockhound", streamed)).isEqualTo(HttpStatus.OK);
        assertThat(status(0, "sk-blockhound", chat)).isEqualTo(HttpStatus.OK);
        assertThat(status(1, "sk-blockhound", chat)).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
        assertThat(status(0, "sk-unknown", chat)).isEqualTo(HttpStatus.UNAUTHORIZED);
        awaitTokens(3 * 42);

        assertThat(BLOCKING_CALLS).isEmpty();
    }

    /** The charges are sent after each answer: waits until they all landed (42 tokens each). */
    private static void awaitTokens(long expected) throws InterruptedException {
        HolderCounters.awaitUsed(gateways.bean(0, GovernanceStore.class), gateways.bean(0, TollgateConfigSource.class),
                Holder.virtualKey("vk-1"), Metric.TOKENS, expected);
    }

    private static HttpStatus status(int instance, String secret, String body) {
        return HttpStatus.valueOf(gateways.client(instance).post().uri("/v1/chat/completions")
                .header("Authorization", "Bearer " + secret).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body).exchange().expectBody(String.class).returnResult().getStatus().value());
    }
}
