package io.tollgate.spring.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A limit rolled out in shadow: the gateways admit what it would deny, and say so in their metrics. */
class TollgateGatewayShadowTest {

    private static final String CONFIG = """
            virtualKeys:
              - id: vk-shadow
                secret: sk-shadow
                rateLimit: {requestMax: 1, requestResetPeriod: 1h}
              - id: vk-enforced
                secret: sk-enforced
                rateLimit: {requestMax: 1, requestResetPeriod: 1h}
            """;
    private static final String CHAT = "{\"model\":\"gpt-4o\",\"messages\":[]}";

    private static TwoGateways gateways;

    @BeforeAll
    static void start() throws Exception {
        gateways = new TwoGateways(CONFIG, Map.of("tollgate.shadow.holders[0]", "virtual-key:vk-shadow"));
    }

    @AfterAll
    static void stop() {
        gateways.close();
    }

    @Test
    void aShadowedLimitAdmitsWhatItWouldDenyAndReportsItWhileAnEnforcedOneDenies() {
        for (int i = 0; i < 4; i++) {
            assertThat(status(i % 2, "sk-shadow")).as("shadowed request %d", i).isEqualTo(HttpStatus.OK);
        }
        assertThat(status(0, "sk-enforced")).isEqualTo(HttpStatus.OK);
        assertThat(status(1, "sk-enforced")).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);

        double shadowDenials = 0;
        for (int i = 0; i < 2; i++) {
            shadowDenials += gateways.bean(i, MeterRegistry.class).find("tollgate.shadow.denials").counters().stream()
                    .mapToDouble(counter -> counter.count()).sum();
        }
        assertThat(shadowDenials).as("3 of the 4 would have been denied, across both instances").isEqualTo(3);
    }

    private static HttpStatus status(int instance, String secret) {
        return HttpStatus.valueOf(gateways.client(instance).post().uri("/v1/chat/completions")
                .header("Authorization", "Bearer " + secret).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(CHAT).exchange().expectBody(String.class).returnResult().getStatus().value());
    }
}
