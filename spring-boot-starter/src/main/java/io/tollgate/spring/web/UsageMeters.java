package io.tollgate.spring.web;

import io.tollgate.usage.OpenAiUsageExtractor;
import io.tollgate.usage.SseUsageScanner;
import io.tollgate.usage.TokenUsage;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Optional;

/** The {@link AnswerMeter}s: one for server-sent events, one for a JSON body. */
final class UsageMeters {

    private UsageMeters() {
    }

    static AnswerMeter forContentType(String contentType, int maxJsonBytes) {
        if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) {
            return new EventStream();
        }
        return new JsonBody(maxJsonBytes);
    }

    /** Keeps the usage of the stream's last event that has one; holds at most one event. */
    private static final class EventStream implements AnswerMeter {

        private final SseUsageScanner scanner = SseUsageScanner.create();

        @Override
        public void accept(ByteBuffer bytes) {
            scanner.feed(bytes);
        }

        @Override
        public Optional<TokenUsage> usage() {
            return scanner.usage();
        }
    }

    /** Buffers the body up to its bound and reads the usage from it once; a larger body has none. */
    private static final class JsonBody implements AnswerMeter {

        private final OpenAiUsageExtractor extractor;
        private final int maxBytes;
        private ByteArrayOutputStream body = new ByteArrayOutputStream();
        private Optional<TokenUsage> usage;

        JsonBody(int maxBytes) {
            this.extractor = OpenAiUsageExtractor.withMaxBodyBytes(maxBytes);
            this.maxBytes = maxBytes;
        }

        @Override
        public void accept(ByteBuffer bytes) {
            if (body == null) {
                return;
            }
            if (body.size() + bytes.remaining() > maxBytes) {
                body = null;
                return;
            }
            ByteBuffer view = bytes.duplicate();
            byte[] chunk = new byte[view.remaining()];
            view.get(chunk);
            body.write(chunk, 0, chunk.length);
            usage = null;
        }

        @Override
        public Optional<TokenUsage> usage() {
            if (body == null) {
                return Optional.empty();
            }
            if (usage == null) {
                usage = extractor.extract(body.toByteArray());
            }
            return usage;
        }
    }
}
