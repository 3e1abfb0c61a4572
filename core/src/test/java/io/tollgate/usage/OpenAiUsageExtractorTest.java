package io.tollgate.usage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The usage of OpenAI-style JSON bodies, and of bodies that only pretend to be. */
class OpenAiUsageExtractorTest {

    private static final OpenAiUsageExtractor EXTRACTOR = OpenAiUsageExtractor.create();

    /** A chat completion in the shape OpenAI answers one. */
    private static final String COMPLETION = """
            {
              "id": "chatcmpl-t0llgate02",
              "object": "chat.completion",
              "created": 1804680000,
              "model": "gpt-4o-mini-2024-07-18",
              "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "Bonjour, ça va ? 🚀", "refusal": null},
                "logprobs": null,
                "finish_reason": "stop"
              }],
              "usage": {
                "prompt_tokens": 1200,
                "completion_tokens": 345,
                "total_tokens": 1545,
                "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0}
              },
              "system_fingerprint": "fp_5e6f7a8b9c"
            }
            """;

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aCompletionGivesItsPromptCompletionAndTotalTokens() {
        assertThat(EXTRACTOR.extract(COMPLETION)).contains(new TokenUsage(1200, 345, 1545));
        assertThat(EXTRACTOR.extract(utf8(COMPLETION))).contains(new TokenUsage(1200, 345, 1545));
    }

    @Test
    void anAbsentTotalIsPromptPlusCompletion() {
        assertThat(EXTRACTOR.extract("{\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5}}"))
                .contains(new TokenUsage(10, 5, 15));
    }

    @Test
    void anEmbeddingAnswerHasNoCompletionTokens() {
        assertThat(EXTRACTOR.extract("{\"object\":\"list\",\"data\":[{\"embedding\":[0.1,-0.2]}],"
                + "\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}")).contains(new TokenUsage(8, 0, 8));
    }

    @Test
    void aTotalAboveItsPartsIsKept() {
        assertThat(EXTRACTOR.extract("{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":9}}"))
                .contains(new TokenUsage(1, 2, 9));
        assertThat(EXTRACTOR.extract("{\"usage\":{\"total_tokens\":9}}")).contains(new TokenUsage(0, 0, 9));
    }

    @Test
    void theUsageMayComeAnywhereAmongTheMembers() {
        assertThat(EXTRACTOR.extract(
                "{\"usage\":{\"prompt_tokens\":3},\"choices\":[{\"usage\":{\"prompt_tokens\":99}}]}"))
                .contains(TokenUsage.of(3, 0));
    }

    @Test
    void bytesAtAnOffsetAreReadAlone() {
        byte[] body = utf8("garbage{\"usage\":{\"prompt_tokens\":4}}garbage");
        assertThat(EXTRACTOR.extract(body, 7, body.length - 14)).contains(TokenUsage.of(4, 0));
        assertThatThrownBy(() -> EXTRACTOR.extract(body, 7, body.length)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{}",
            "{\"choices\":[]}",
            "{\"usage\":null}",
            "{\"usage\":{}}",
            "{\"usage\":{\"cached_tokens\":5}}",
            "{\"usage\":[1,2]}",
            "{\"usage\":12}",
            "{\"choices\":[{\"usage\":{\"prompt_tokens\":3}}]}",
    })
    void aBodyWithoutUsageGivesNone(String body) {
        assertThat(EXTRACTOR.extract(body)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":5}}",
            "{\"usage\":{\"prompt_tokens\":1.5}}",
            "{\"usage\":{\"prompt_tokens\":1e3}}",
            "{\"usage\":{\"prompt_tokens\":\"12\"}}",
            "{\"usage\":{\"prompt_tokens\":true}}",
            "{\"usage\":{\"prompt_tokens\":null}}",
            "{\"usage\":{\"prompt_tokens\":{}}}",
            "{\"usage\":{\"prompt_tokens\":9223372036854775808}}",
            "{\"usage\":{\"prompt_tokens\":123456789012345678901234567890}}",
            "{\"usage\":{\"prompt_tokens\":9223372036854775807,\"completion_tokens\":1}}",
            "{\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":14}}",
            "{\"usage\":{\"prompt_tokens\":1,\"prompt_tokens\":2}}",
            "{\"usage\":{\"prompt_tokens\":1},\"usage\":{\"prompt_tokens\":1}}",
            "{\"usage\":{\"prompt_tokens\":1}",
            "{\"usage\":{\"prompt_tokens\":1}} trailing",
            "{\"usage\":{\"prompt_tokens\":1}} {}",
            "{\"usage\":{\"prompt_tokens\":01}}",
            "{'usage':{'prompt_tokens':1}}",
            "{\"usage\":{\"prompt_tokens\":1,}}",
            "{\"usage\":{\"prompt_tokens\":NaN}}",
            "[{\"usage\":{\"prompt_tokens\":1}}]",
            "\"usage\"",
            "42",
            "",
            "   ",
            "null",
            "data: {\"usage\":{\"prompt_tokens\":1}}",
            "<html><body>502 Bad Gateway</body></html>",
    })
    void aMalformedBodyGivesNoUsageAndNoException(String body) {
        assertThat(EXTRACTOR.extract(body)).isEmpty();
    }

    @Test
    void bytesThatAreNotUtf8GiveNoUsage() {
        byte[] body = utf8("{\"usage\":{\"prompt_tokens\":1},\"x\":\"..\"}");
        body[body.length - 4] = (byte) 0xC3;
        body[body.length - 3] = (byte) 0x28;
        assertThat(EXTRACTOR.extract(body)).isEmpty();
        assertThat(EXTRACTOR.extract(new byte[]{(byte) 0xFF, (byte) 0xFE, 0, 0})).isEmpty();
    }

    /** A guard against a hang, not a timing assertion: each body is refused in one pass. */
    @Test
    @Timeout(60)
    void hostileBodiesGiveNoUsage() {
        int depth = 1_000_000;
        assertThat(EXTRACTOR.extract("[".repeat(depth) + "]".repeat(depth))).as("deep arrays").isEmpty();
        assertThat(EXTRACTOR.extract("{\"a\":".repeat(depth) + "1" + "}".repeat(depth))).as("deep objects").isEmpty();
        assertThat(EXTRACTOR.extract("{\"usage\":" + "{\"x\":".repeat(depth) + "1" + "}".repeat(depth + 1)))
                .as("deep usage").isEmpty();
        assertThat(EXTRACTOR.extract("{\"usage\":{\"prompt_tokens\":" + "9".repeat(5_000_000) + "}}"))
                .as("a huge number").isEmpty();
        assertThat(EXTRACTOR.extract("{\"n\":1" + "0".repeat(5_000_000) + ",\"usage\":{\"prompt_tokens\":1}}"))
                .as("a huge number elsewhere").isEmpty();
        assertThat(EXTRACTOR.extract("{\"n\":1e999999999,\"usage\":{\"prompt_tokens\":1}}"))
                .as("a huge exponent elsewhere").contains(TokenUsage.of(1, 0));
        assertThat(EXTRACTOR.extract("{\"usage\":{\"prompt_tokens\":1e999999999}}")).as("a huge exponent").isEmpty();
    }

    @Test
    void nestingUpToTheLimitIsReadAndNoDeeper() {
        int arrays = OpenAiUsageExtractor.MAX_DEPTH - 1; // inside the root object
        String usage = ",\"usage\":{\"prompt_tokens\":2}}";
        String deepest = "{\"x\":" + "[".repeat(arrays) + "]".repeat(arrays) + usage;
        assertThat(EXTRACTOR.extract(deepest)).contains(TokenUsage.of(2, 0));
        String deeper = "{\"x\":" + "[".repeat(arrays + 1) + "]".repeat(arrays + 1) + usage;
        assertThat(EXTRACTOR.extract(deeper)).isEmpty();
    }

    @Test
    void aLongStringElsewhereIsReadPast() {
        String body = "{\"choices\":[{\"message\":{\"content\":\"" + "é".repeat(1_000_000) + "\"}}],"
                + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1000000}}";
        assertThat(EXTRACTOR.extract(body)).contains(TokenUsage.of(5, 1_000_000));
    }

    @Test
    void aBodyOverTheBoundIsRefusedUnread() {
        byte[] body = utf8(COMPLETION);
        assertThat(OpenAiUsageExtractor.withMaxBodyBytes(body.length).extract(body)).isPresent();
        assertThat(OpenAiUsageExtractor.withMaxBodyBytes(body.length - 1).extract(body)).isEmpty();
        assertThat(OpenAiUsageExtractor.withMaxBodyBytes(body.length - 1).extract(COMPLETION)).isEmpty();

        // the bound is on bytes: two-byte characters count twice
        String accents = "{\"usage\":{\"prompt_tokens\":1},\"s\":\"" + "é".repeat(20) + "\"}";
        assertThat(OpenAiUsageExtractor.withMaxBodyBytes(accents.length()).extract(accents)).isEmpty();
        assertThat(OpenAiUsageExtractor.withMaxBodyBytes(utf8(accents).length).extract(accents)).isPresent();

        byte[] huge = new byte[OpenAiUsageExtractor.DEFAULT_MAX_BODY_BYTES + 1];
        Arrays.fill(huge, (byte) '[');
        assertThat(EXTRACTOR.extract(huge)).isEmpty();
    }

    @Test
    void aBoundMustBePositive() {
        assertThatThrownBy(() -> OpenAiUsageExtractor.withMaxBodyBytes(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBodyBytes").hasMessageContaining("0");
        assertThat(OpenAiUsageExtractor.withMaxBodyBytes(10).maxBodyBytes()).isEqualTo(10);
    }

    @Test
    void tokenUsageRefusesWhatCannotBe() {
        assertThat(TokenUsage.of(3, 4).totalTokens()).isEqualTo(7);
        assertThatThrownBy(() -> TokenUsage.of(-1, 4)).hasMessageContaining("inputTokens").hasMessageContaining("-1");
        assertThatThrownBy(() -> TokenUsage.of(1, -4)).hasMessageContaining("outputTokens").hasMessageContaining("-4");
        assertThatThrownBy(() -> new TokenUsage(3, 4, 6)).hasMessageContaining("totalTokens").hasMessageContaining("6");
        assertThatThrownBy(() -> TokenUsage.of(Long.MAX_VALUE, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("passes 2^63 - 1");
        assertThatThrownBy(() -> new TokenUsage(Long.MAX_VALUE, 1, Long.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("passes 2^63 - 1");
    }
}
