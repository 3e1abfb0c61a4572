/**
 * Usage read from an upstream's answer, and its price: {@link io.tollgate.usage.OpenAiUsageExtractor} reads the
 * {@code usage} of an OpenAI-style JSON body, {@link io.tollgate.usage.SseUsageScanner} finds it in a streamed
 * answer as the bytes pass through a proxy, and {@link io.tollgate.usage.PriceTable} turns tokens into
 * {@link io.tollgate.Money}. What they give is charged through {@link io.tollgate.UsageTracker} or a
 * {@link io.tollgate.UsageStream}. Plain Java; JSON is read with Jackson's streaming parser.
 */
package io.tollgate.usage;
