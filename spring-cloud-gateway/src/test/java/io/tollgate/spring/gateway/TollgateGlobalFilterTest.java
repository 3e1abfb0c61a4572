package io.tollgate.spring.gateway;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The global filter ({@code tollgate.gateway.global-filter: true}): it checks routes without the route filter, takes
 * the provider from the route's metadata, and a route that has both filters is checked once.
 */
class TollgateGlobalFilterTest {

    private static final String CONFIG = """
            virtualKeys:
              - id: vk-global
                secret: sk-global
                providerConfigs: [{provider: openai, allowedModels: ["*"]}]
                rateLimit: {requestMax: 2, requestResetPeriod: 1h}
            """;
    private static final String CHAT = "{\"model\":\"gpt-4o\",\"messages\":[]}";

    @Test
    void aRouteWithoutTheRouteFilterIsCheckedWithTheProviderOfItsMetadata() throws Exception {
        try (TwoGateways gateways = new TwoGateways(CONFIG, Map.of(
                "tollgate.gateway.global-filter", "true",
                "spring.cloud.gateway.server.webflux.routes[0].filters[0]", "AddRequestHeader=x-via,gateway",
                "spring.cloud.gateway.server.webflux.routes[0].metadata.tollgate-provider", "anthropic"))) {

            assertThat(status(gateways, 0)).as("the key may not use the route's provider")
                    .isEqualTo(HttpStatus.FORBIDDEN);
            assertThat(gateways.upstream.served()).isZero();
        }
    }

    @Test
    void aRouteWithBothFiltersIsCheckedOnce() throws Exception {
        try (TwoGateways gateways = new TwoGateways(CONFIG, Map.of("tollgate.gateway.global-filter", "true"))) {
            int admitted = 0;
            for (int i = 0; i < 4; i++) {
                admitted += status(gateways, i % 2) == HttpStatus.OK ? 1 : 0;
            }

            assertThat(admitted).as("a limit of 2, each request counted once").isEqualTo(2);
        }
    }

    private static HttpStatus status(TwoGateways gateways, int instance) {
        return HttpStatus.valueOf(gateways.client(instance).post().uri("/v1/chat/completions")
                .header("Authorization", "Bearer sk-global").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(CHAT).exchange().expectBody(String.class).returnResult().getStatus().value());
    }
}
