package io.tollgate.spring.web;

import io.tollgate.usage.TokenUsage;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Reads the token usage out of an upstream's answer as its bytes pass through, without holding up or changing them:
 * a server-sent event stream ({@code text/event-stream}) keeps the usage of its last event that has one; any other
 * answer is read as an OpenAI-style JSON body, buffered up to a bound (beyond it, no usage is read).
 *
 * <p>Not thread-safe: one per answer, fed in order.
 */
public interface AnswerMeter {

    void accept(ByteBuffer bytes);

    /** The usage the answer reported so far; for a stream, its last. */
    Optional<TokenUsage> usage();

    /** A meter for an answer of {@code contentType} (may be null). */
    static AnswerMeter forContentType(String contentType, int maxJsonBytes) {
        return UsageMeters.forContentType(contentType, maxJsonBytes);
    }
}
