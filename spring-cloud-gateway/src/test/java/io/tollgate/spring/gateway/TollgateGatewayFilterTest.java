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
import org.springframework.test.web.reactive.server.EntityExchangeResult;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code Tollgate} route filter of two gateway instances over real HTTP, sharing one Redis, in front of a real
 * upstream: limits hold across both, denials never reach the upstream, and answers are charged once with the usage
 * the upstream reported.
 */
class TollgateGatewayFilterTest {

    private static final String CONFIG = """
            virtualKeys:
              - id: vk-limited
                secret: sk-limited
                rateLimit: {requestMax: 5, requestResetPeriod: 1h}
              - id: vk-tokens
                secret: sk-tokens
                rateLimit: {tokenMax: 1000000, tokenResetPeriod: 1h}
              - id: vk-budget
                secret: sk-budget
                budgets: [{max: "0.02"}]
            """;
    private static final String CHAT = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
    private static final String STREAMED_CHAT = "{\"model\":\"gpt-4o\",\"stream\":true,"
            + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";

    private static TwoGateways gateways;

    @BeforeAll
    static void start() throws Exception {
        gateways = new TwoGateways(CONFIG, Map.of());
    }

    @AfterAll
    static void stop() {
        gateways.close();
    }

    @Test
    void aRequestLimitOfFiveAdmitsExactlyFiveAcrossBothInstancesAndTheSixthGets429WithRetryAfter() {
        int servedBefore = gateways.upstream.served();
        int admitted = 0;
        for (int i = 0; i < 10; i++) {
            EntityExchangeResult<String> answer = post(i % 2, "sk-limited", CHAT);
            if (answer.getStatus().value() == 200) {
                admitted++;
                assertThat(answer.getResponseBody()).contains("\"usage\"");
                assertThat(answer.getResponseHeaders().getFirst("X-RateLimit-Remaining"))
                        .as("the decision's fields, beside the upstream's").isNotNull();
            } else {
                assertThat(answer.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
                assertThat(answer.getResponseHeaders().getFirst("Retry-After")).isNotBlank();
                assertThat(answer.getResponseBody()).contains("\"code\":\"request_limited\"")
                        .contains("virtual key 'vk-limited'").doesNotContain("sk-limited");
            }
        }

        assertThat(admitted).isEqualTo(5);
        assertThat(gateways.upstream.served() - servedBefore).as("denials never reach the upstream").isEqualTo(5);
    }

    @Test
    void anUnknownKeyGets401AndNeverReachesTheUpstream() {
        int servedBefore = gateways.upstream.served();

        EntityExchangeResult<String> answer = post(0, "sk-nobody", CHAT);
        EntityExchangeResult<String> none = gateways.client(1).post().uri("/v1/chat/completions")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(CHAT).exchange()
                .expectBody(String.class).returnResult();

        assertThat(answer.getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
        assertThat(answer.getResponseBody()).contains("virtual_key_not_found").doesNotContain("sk-nobody");
        assertThat(none.getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
        assertThat(none.getResponseHeaders().getFirst("WWW-Authenticate")).isEqualTo("Bearer");
        assertThat(gateways.upstream.served()).isEqualTo(servedBefore);
    }

    @Test
    void aJsonAnswerAndAStreamedAnswerAreEachChargedOnceWithTheUsageTheUpstreamReported() throws Exception {
        long before = tokensUsed("vk-tokens");

        EntityExchangeResult<String> json = gateways.client(0).post().uri("/v1/chat/completions")
                .header("Authorization", "Bearer sk-tokens").header("x-fake-prompt-tokens", "100")
                .header("x-fake-completion-tokens", "23").contentType(MediaType.APPLICATION_JSON).bodyValue(CHAT)
                .exchange().expectBody(String.class).returnResult();
        EntityExchangeResult<String> stream = gateways.client(1).post().uri("/v1/chat/completions")
                .header("Authorization", "Bearer sk-tokens").header("x-fake-prompt-tokens", "7")
                .header("x-fake-completion-tokens", "1000").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(STREAMED_CHAT).exchange().expectBody(String.class).returnResult();

        assertThat(json.getStatus()).isEqualTo(HttpStatus.OK);
        assertThat(stream.getStatus()).isEqualTo(HttpStatus.OK);
        assertThat(stream.getResponseBody()).as("the stream passes through whole").contains("Hel").contains("[DONE]");
        awaitTokens("vk-tokens", before + 123 + 1007);
        Thread.sleep(300);
        assertThat(tokensUsed("vk-tokens")).as("charged once each").isEqualTo(before + 123 + 1007);
    }

    @Test
    void aBudgetSpentByChargesGets402() throws Exception {
        // 1,000 prompt and 1,000 completion tokens of gpt-4o cost $0.0125; the budget is $0.02
        for (int i = 0; i < 2; i++) {
            EntityExchangeResult<String> answer = gateways.client(i).post().uri("/v1/chat/completions")
                    .header("Authorization", "Bearer sk-budget").header("x-fake-prompt-tokens", "1000")
                    .header("x-fake-completion-tokens", "1000").contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(CHAT).exchange().expectBody(String.class).returnResult();
            assertThat(answer.getStatus()).isEqualTo(HttpStatus.OK);
            awaitCost("vk-budget", 12_500_000L * (i + 1));
        }

        EntityExchangeResult<String> spent = post(0, "sk-budget", CHAT);

        assertThat(spent.getStatus()).isEqualTo(HttpStatus.PAYMENT_REQUIRED);
        assertThat(spent.getResponseBody()).contains("budget_exceeded");
    }

    private static EntityExchangeResult<String> post(int instance, String secret, String body) {
        return gateways.client(instance).post().uri("/v1/chat/completions")
                .header("Authorization", "Bearer " + secret).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body).exchange().expectBody(String.class).returnResult();
    }

    private static long tokensUsed(String keyId) {
        return HolderCounters.used(store(), config(), Holder.virtualKey(keyId), Metric.TOKENS);
    }

    private static void awaitTokens(String keyId, long expected) throws InterruptedException {
        HolderCounters.awaitUsed(store(), config(), Holder.virtualKey(keyId), Metric.TOKENS, expected);
    }

    private static void awaitCost(String keyId, long expectedNanos) throws InterruptedException {
        HolderCounters.awaitUsed(store(), config(), Holder.virtualKey(keyId), Metric.COST, expectedNanos);
    }

    /** The other instance's store: what one instance charged, the other sees. */
    private static GovernanceStore store() {
        return gateways.bean(1, GovernanceStore.class);
    }

    private static TollgateConfigSource config() {
        return gateways.bean(0, TollgateConfigSource.class);
    }
}
