package io.tollgate.usage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The usage of streamed answers, fed in chunks split anywhere. The recorded stream is a chat completion in the shape
 * OpenAI streams with {@code stream_options.include_usage}: {@code "usage": null} in every chunk but the last, text
 * with two-, three- and four-byte UTF-8 characters, comments, and {@code [DONE]}.
 */
class SseUsageScannerTest {

    private static final TokenUsage RECORDED_USAGE = new TokenUsage(19, 10, 29);
    /**
     * Usage in an event that also carries text of every UTF-8 length, so that a broken sequence would show, over two
     * data lines, so that a line end read as two would show.
     */
    private static final String USAGE_WITH_TEXT = ": comment\nid: 1\ndata: {\"choices\":[{\"delta\":{\"content\":"
            + "\"Grüße, 日本 🚀\"}}],\ndata: \"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}\n\n";

    private static byte[] recorded() {
        try (InputStream in = SseUsageScannerTest.class.getResourceAsStream("openai-chat-stream.txt")) {
            return Objects.requireNonNull(in, "openai-chat-stream.txt").readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] withLineEnds(byte[] stream, String lineEnd) {
        return new String(stream, StandardCharsets.UTF_8).replace("\n", lineEnd).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static SseUsageScanner scanned(byte[]... chunks) {
        SseUsageScanner scanner = SseUsageScanner.create();
        for (byte[] chunk : chunks) {
            scanner.feed(chunk);
        }
        return scanner;
    }

    @Test
    void theRecordedStreamGivesTheUsageOfItsLastChunk() {
        SseUsageScanner scanner = scanned(recorded());
        assertThat(scanner.usage()).contains(RECORDED_USAGE);
        assertThat(scanner.done()).isTrue();
        assertThat(scanner.skippedEvents()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r\n", "\r"})
    void theRecordedStreamSplitInTwoAtEveryByteGivesTheSameUsage(String lineEnd) {
        byte[] stream = withLineEnds(recorded(), lineEnd);
        for (int split = 0; split <= stream.length; split++) {
            SseUsageScanner scanner = SseUsageScanner.create();
            scanner.feed(stream, 0, split);
            scanner.feed(stream, split, stream.length - split);
            assertThat(scanner.usage()).as("split at %d", split).contains(RECORDED_USAGE);
            assertThat(scanner.done()).as("split at %d", split).isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r\n", "\r"})
    void usageBesideTextSplitInTwoAtEveryByteIsRead(String lineEnd) {
        byte[] stream = withLineEnds(utf8(USAGE_WITH_TEXT), lineEnd);
        for (int split = 0; split <= stream.length; split++) {
            SseUsageScanner scanner = SseUsageScanner.create();
            scanner.feed(Arrays.copyOfRange(stream, 0, split));
            scanner.feed(Arrays.copyOfRange(stream, split, stream.length));
            assertThat(scanner.usage()).as("split at %d", split).contains(new TokenUsage(7, 3, 10));
        }
    }

    @Test
    void theRecordedStreamFedByteByByteGivesTheSameUsage() {
        byte[] stream = withLineEnds(recorded(), "\r\n");
        SseUsageScanner scanner = SseUsageScanner.create();
        for (int i = 0; i < stream.length; i++) {
            scanner.feed(stream, i, 1);
        }
        assertThat(scanner.usage()).contains(RECORDED_USAGE);
        assertThat(scanner.done()).isTrue();
    }

    @Test
    void theRecordedStreamCutIntoRandomChunksGivesTheSameUsage() {
        byte[] stream = recorded();
        SplittableRandom random = new SplittableRandom(20_270_310);
        for (int run = 0; run < 500; run++) {
            SseUsageScanner scanner = SseUsageScanner.create();
            int at = 0;
            while (at < stream.length) {
                int size = Math.min(stream.length - at, 1 + random.nextInt(64));
                scanner.feed(stream, at, size);
                at += size;
            }
            assertThat(scanner.usage()).as("run %d", run).contains(RECORDED_USAGE);
        }
    }

    @Test
    void aStreamWithoutUsageGivesNone() {
        String stream = new String(recorded(), StandardCharsets.UTF_8);
        String withoutLast = stream.substring(0, stream.lastIndexOf("data: {")) + "data: [DONE]\n\n";
        SseUsageScanner scanner = scanned(utf8(withoutLast));
        assertThat(scanner.usage()).isEmpty();
        assertThat(scanner.done()).isTrue();
    }

    @Test
    void theUsageOfTheLastEventThatCarriedOneIsKept() {
        SseUsageScanner scanner = scanned(utf8("""
                data: {"usage":{"prompt_tokens":1,"completion_tokens":1}}

                data: {"usage":{"prompt_tokens":5,"completion_tokens":8}}

                data: {"usage":null}

                data: {"usage":"soon"}

                data: not json

                """));
        assertThat(scanner.usage()).contains(TokenUsage.of(5, 8));
        assertThat(scanner.done()).isFalse();
    }

    @Test
    void dataLinesOfOneEventAreJoinedWithNewlines() {
        SseUsageScanner scanner = scanned(utf8("""
                event: message
                id: 7
                data: {"usage":
                : a comment inside the event
                data:{"prompt_tokens":4,
                data:  "completion_tokens":6}}
                retry: 1000

                """));
        assertThat(scanner.usage()).contains(TokenUsage.of(4, 6));
    }

    @Test
    void aFieldIsDataOnlyWhenItsWholeNameIsData() {
        SseUsageScanner scanner = scanned(utf8("""
                database: {"usage":{"prompt_tokens":1}}
                dat: {"usage":{"prompt_tokens":2}}
                Data: {"usage":{"prompt_tokens":3}}

                """));
        assertThat(scanner.usage()).isEmpty();
    }

    @Test
    void anEventTheStreamEndsInBeforeItsBlankLineIsNotRead() {
        SseUsageScanner scanner = scanned(utf8("data: {\"usage\":{\"prompt_tokens\":4}}\n"));
        assertThat(scanner.usage()).isEmpty();

        scanner.feed(utf8("\n"));
        assertThat(scanner.usage()).contains(TokenUsage.of(4, 0));
    }

    @Test
    void aByteOrderMarkAtTheStartIsDropped() {
        byte[] mark = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] event = utf8("data: {\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1}}\n\n");
        SseUsageScanner scanner = SseUsageScanner.create();
        scanner.feed(mark, 0, 2);
        scanner.feed(mark, 2, 1);
        scanner.feed(event);
        assertThat(scanner.usage()).contains(TokenUsage.of(2, 1));
    }

    @Test
    void doneIsOnlyAnEventWhoseWholeDataIsDone() {
        assertThat(scanned(utf8("data: [DONE] \n\n")).done()).isFalse();
        assertThat(scanned(utf8("data: [DONE]")).done()).as("not ended by a blank line").isFalse();
        assertThat(scanned(utf8("data:[DONE]\r\n\r\n")).done()).isTrue();
    }

    @Test
    void anEventOverTheBoundIsSkippedAndTheNextOneRead() {
        SseUsageScanner scanner = SseUsageScanner.create(OpenAiUsageExtractor.create(), 100);
        String padding = "x".repeat(200);
        scanner.feed(utf8("data: {\"usage\":{\"prompt_tokens\":9},\"pad\":\"" + padding + "\"}\n\n"));
        assertThat(scanner.skippedEvents()).isEqualTo(1);
        assertThat(scanner.usage()).isEmpty();

        scanner.feed(utf8("data: {\"usage\":{\"prompt_tokens\":3}}\n\n"));
        assertThat(scanner.usage()).contains(TokenUsage.of(3, 0));
        assertThat(scanner.skippedEvents()).isEqualTo(1);
    }

    @Test
    void manyDataLinesThatTogetherPassTheBoundSkipTheirEvent() {
        SseUsageScanner scanner = SseUsageScanner.create(OpenAiUsageExtractor.create(), 100);
        scanner.feed(utf8("data: {\"usage\":{\"prompt_tokens\":9}}\n" + "data: \n".repeat(200) + "\n"));
        assertThat(scanner.skippedEvents()).isEqualTo(1);
        assertThat(scanner.usage()).isEmpty();
    }

    @Test
    void anEventJustWithinTheBoundIsRead() {
        String event = "data: {\"usage\":{\"prompt_tokens\":9}}";
        SseUsageScanner scanner = SseUsageScanner.create(OpenAiUsageExtractor.create(), event.length());
        scanner.feed(utf8(event + "\n\n"));
        assertThat(scanner.usage()).contains(TokenUsage.of(9, 0));
        assertThat(scanner.skippedEvents()).isZero();

        SseUsageScanner smaller = SseUsageScanner.create(OpenAiUsageExtractor.create(), event.length() - 1);
        smaller.feed(utf8(event + "\n\n"));
        assertThat(smaller.usage()).isEmpty();
        assertThat(smaller.skippedEvents()).isEqualTo(1);
    }

    /** A guard against a hang (quadratic copying would take hours here), not a timing assertion. */
    @Test
    @Timeout(60)
    void anEndlessEventFedInTinyChunksIsHeldWithinTheBound() {
        int bound = 64 * 1024;
        SseUsageScanner scanner = SseUsageScanner.create(OpenAiUsageExtractor.create(), bound);
        scanner.feed(utf8("data: {\"usage\":{\"prompt_tokens\":9},\"pad\":\""));
        byte[] chunk = new byte[7];
        Arrays.fill(chunk, (byte) 'x');
        for (int i = 1; i <= 2_000_000; i++) {
            scanner.feed(chunk);
            if (i % 1_000 == 0) {
                assertThat(scanner.bufferedCapacity()).as("after %d chunks", i).isLessThanOrEqualTo(2 * (bound + 1));
            }
        }
        scanner.feed(utf8("\"}\n\ndata: {\"usage\":{\"completion_tokens\":2}}\n\n"));

        assertThat(scanner.skippedEvents()).isEqualTo(1);
        assertThat(scanner.usage()).contains(TokenUsage.of(0, 2));
    }

    /** A guard against a hang, not a timing assertion. */
    @Test
    @Timeout(60)
    void aFloodOfLineEndsAndCommentsIsPassedOver() {
        SseUsageScanner scanner = SseUsageScanner.create();
        byte[] flood = utf8("\r\n\r:\n\n:x\r".repeat(100_000));
        for (int i = 0; i < 20; i++) {
            scanner.feed(flood);
        }
        scanner.feed(utf8("\ndata: {\"usage\":{\"total_tokens\":5}}\n\n"));
        assertThat(scanner.usage()).contains(new TokenUsage(0, 0, 5));
        assertThat(scanner.bufferedCapacity()).isLessThanOrEqualTo(2 * 256);
    }

    @Test
    void aByteBufferIsReadWithoutMovingIt() {
        byte[] stream = recorded();
        ByteBuffer heap = ByteBuffer.wrap(stream, 5, stream.length - 5).slice();
        ByteBuffer direct = ByteBuffer.allocateDirect(stream.length);
        direct.put(stream).flip();
        ByteBuffer readOnly = ByteBuffer.wrap(stream).asReadOnlyBuffer();

        SseUsageScanner first = SseUsageScanner.create();
        first.feed(ByteBuffer.wrap(stream, 0, 5));
        first.feed(heap);
        SseUsageScanner second = SseUsageScanner.create();
        second.feed(direct);
        SseUsageScanner third = SseUsageScanner.create();
        third.feed(readOnly);

        assertThat(first.usage()).contains(RECORDED_USAGE);
        assertThat(second.usage()).contains(RECORDED_USAGE);
        assertThat(third.usage()).contains(RECORDED_USAGE);
        assertThat(heap.position()).isZero();
        assertThat(direct.position()).isZero();
        assertThat(direct.remaining()).isEqualTo(stream.length);
        assertThat(readOnly.position()).isZero();
    }

    @Test
    void badArgumentsAreRefusedWithTheirName() {
        assertThatThrownBy(() -> SseUsageScanner.create(OpenAiUsageExtractor.create(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxEventBytes")
                .hasMessageContaining("0");
        assertThatThrownBy(() -> SseUsageScanner.create().feed(new byte[4], 3, 2))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }
}
