package io.tollgate.usage;

/**
 * The tokens one upstream call consumed: its input (the prompt), its output (the completion), and its total, which
 * is at least their sum. A total above the sum holds tokens the upstream counted but did not classify; they count
 * toward token limits but {@link PriceTable} prices input and output only.
 *
 * <p>Immutable and thread-safe.
 *
 * @param inputTokens  tokens of the input (OpenAI {@code prompt_tokens})
 * @param outputTokens tokens of the output (OpenAI {@code completion_tokens})
 * @param totalTokens  every token of the call (OpenAI {@code total_tokens}), the amount charged to token limits
 */
public record TokenUsage(long inputTokens, long outputTokens, long totalTokens) {

    public TokenUsage {
        if (inputTokens < 0) {
            throw new IllegalArgumentException("TokenUsage.inputTokens: " + inputTokens + " must not be negative");
        }
        if (outputTokens < 0) {
            throw new IllegalArgumentException("TokenUsage.outputTokens: " + outputTokens + " must not be negative");
        }
        if (inputTokens > Long.MAX_VALUE - outputTokens) {
            throw new IllegalArgumentException("TokenUsage: inputTokens " + inputTokens + " + outputTokens "
                    + outputTokens + " passes 2^63 - 1");
        }
        if (totalTokens < inputTokens + outputTokens) {
            throw new IllegalArgumentException("TokenUsage.totalTokens: " + totalTokens + " is below inputTokens "
                    + inputTokens + " + outputTokens " + outputTokens);
        }
    }

    /** Usage whose total is the sum of its input and output. */
    public static TokenUsage of(long inputTokens, long outputTokens) {
        if (inputTokens >= 0 && outputTokens >= 0 && inputTokens > Long.MAX_VALUE - outputTokens) {
            throw new IllegalArgumentException("TokenUsage: inputTokens " + inputTokens + " + outputTokens "
                    + outputTokens + " passes 2^63 - 1");
        }
        return new TokenUsage(inputTokens, outputTokens, inputTokens + outputTokens);
    }
}
