package io.tollgate;

import io.tollgate.memory.InMemoryGovernanceStore;
import io.tollgate.spi.GovernanceStore;
import io.tollgate.spi.TestClock;
import io.tollgate.usage.PriceTable;
import io.tollgate.usage.SseUsageScanner;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's examples, as written there, so that they keep compiling and doing what they say. */
class QuickstartTest {

    private static final GovernanceConfig CONFIG = GovernanceConfig.builder()
            .team(new Team("search", null, List.of(Budget.calendar(Money.parse("100"), "1M", ZoneOffset.UTC)), null))
            .virtualKey(VirtualKey.builder("vk-search")
                    .secret("sk-live-123")
                    .team("search")
                    .rateLimit(RateLimit.builder().requests(60, "1m").tokens(100_000, "1m").build())
                    .build())
            .build();

    @Test
    void quickstartChecksAndCharges() {
        // --- README quickstart begins
        GovernanceConfig config = GovernanceConfig.builder()
                .team(new Team("search", null, List.of(Budget.calendar(Money.parse("100"), "1M", ZoneOffset.UTC)), null))
                .virtualKey(VirtualKey.builder("vk-search")
                        .secret("sk-live-123")
                        .team("search")
                        .rateLimit(RateLimit.builder().requests(60, "1m").tokens(100_000, "1m").build())
                        .build())
                .build();

        GovernanceStore store = InMemoryGovernanceStore.create(); // or RedisGovernanceStore.builder(redisClient).build()
        BudgetResolver resolver = BudgetResolver.create(store, config);
        UsageTracker tracker = UsageTracker.create(store, config);

        Decision decision = resolver.check(CheckRequest.builder()
                .virtualKey("sk-live-123").provider("openai").model("gpt-4o").build());
        if (!decision.allowed()) {
            // answer decision.httpStatus() with decision.headers(), e.g. 429 with Retry-After
        }
        tracker.charge(UsageUpdate.builder()
                .virtualKey("sk-live-123").provider("openai").model("gpt-4o")
                .requestId("req-1").tokens(1_234).cost(Money.parse("0.0042"))
                .reservation(decision.reservation().orElse(null))
                .build());
        // --- README quickstart ends

        assertThat(decision.allowed()).isTrue();
        assertThat(decision.limits()).hasSize(3);
        assertThat(store.read(decision.limits().stream().map(LimitUsage::limit).toList())
                .toCompletableFuture().join())
                .extracting(state -> state.used())
                .containsExactly(1L, 1_234L, Money.parse("0.0042").nanos());
    }

    @Test
    void aStreamedAnswerIsChargedWithTheUsageOfItsLastChunk() {
        // a clock that stands still, so that the one-minute windows cannot turn during the test
        TestClock clock = new TestClock(Instant.parse("2027-03-10T10:30:00Z"));
        GovernanceStore store = InMemoryGovernanceStore.builder().clock(clock).build();
        BudgetResolver resolver = BudgetResolver.create(store, () -> CONFIG, clock);
        UsageTracker tracker = UsageTracker.create(store, CONFIG);
        List<byte[]> upstream = List.of(
                utf8("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}],\"usage\":null}\n\nda"),
                utf8("ta: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}],\"usage\":null}\n\n"),
                utf8("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":900,\"completion_tokens\":100,"
                        + "\"total_tokens\":1000}}\n\ndata: [DONE]\n\n"));

        // --- README streaming begins
        PriceTable prices = PriceTable.builder()
                .price("openai", "gpt-4o", Money.parse("2.50"), Money.parse("10.00")) // per million input, output tokens
                .build();
        Decision decision = resolver.check(CheckRequest.builder()
                .virtualKey("sk-live-123").provider("openai").model("gpt-4o").estimatedTokens(4_000).build());
        if (decision.allowed()) {
            SseUsageScanner scanner = SseUsageScanner.create();
            try (UsageStream stream = tracker.openStream(decision, "req-2")) {
                for (byte[] chunk : upstream) { // each chunk as it passes through to the caller
                    scanner.feed(chunk);
                }
                scanner.usage().ifPresent(usage ->
                        stream.finish(usage.totalTokens(), prices.cost("openai", "gpt-4o", usage)));
            } // a stream cut short, or without usage, is settled here as a failed call
        }
        // --- README streaming ends

        assertThat(decision.allowed()).isTrue();
        assertThat(store.read(decision.limits().stream().map(LimitUsage::limit).toList())
                .toCompletableFuture().join())
                .extracting(state -> state.used())
                .as("one request, the tokens of the answer and not the estimate, 900 x $2.50/M + 100 x $10/M")
                .containsExactly(1L, 1_000L, Money.parse("0.00325").nanos());
    }

    @Test
    void theReadmeShowsTheCodeOfTheseTests() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        String source = Files.readString(Path.of("src", "test", "java", "io", "tollgate", "QuickstartTest.java"));
        for (String block : List.of("quickstart", "streaming")) {
            assertThat(readme).as("README %s", block).contains(between(source, "// --- README " + block));
        }
    }

    /** The lines between the markers {@code <marker> begins} and {@code <marker> ends}, without their indent. */
    private static String between(String source, String marker) {
        List<String> lines = source.lines().toList();
        int begin = -1;
        int end = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.equals(marker + " begins")) {
                begin = i + 1;
            } else if (line.equals(marker + " ends")) {
                end = i;
            }
        }
        assertThat(begin).as(marker).isPositive().isLessThan(end);
        int indent = lines.get(begin).length() - lines.get(begin).stripLeading().length();
        List<String> block = new ArrayList<>();
        for (String line : lines.subList(begin, end)) {
            block.add(line.length() >= indent ? line.substring(indent) : line.strip());
        }
        return String.join("\n", block);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
