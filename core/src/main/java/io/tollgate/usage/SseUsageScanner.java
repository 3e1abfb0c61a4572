package io.tollgate.usage;

import io.tollgate.internal.Checks;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * Finds the usage in a streamed answer (server-sent events) as its bytes pass through a proxy: feed each chunk as it
 * arrives, in order, and ask {@link #usage()} at the end. Chunks may be split anywhere, inside a line or a UTF-8
 * sequence: only whole events are read.
 *
 * <p>The stream is read as the server-sent events format says: lines end with {@code \n}, {@code \r\n} or {@code \r};
 * a blank line ends an event; the {@code data} fields of an event are joined with {@code \n} (so a JSON value may span
 * several {@code data:} lines); other fields ({@code event}, {@code id}, {@code retry}) and comments (lines starting
 * with {@code :}) are passed over; a byte order mark at the start is dropped; an event the stream ends in before its
 * blank line is not read. The data of each event is given to an {@link OpenAiUsageExtractor}, and the usage of the
 * last event that carried one is kept: OpenAI sends it in the final chunk when the request sets
 * {@code stream_options.include_usage}, and {@code "usage": null} in the others. An event whose data is
 * {@code [DONE]} marks the end of the answer ({@link #done()}).
 *
 * <p>Memory is bounded per stream: an event whose data, with the line being read, grows past {@code maxEventBytes}
 * is skipped to its end, counted in {@link #skippedEvents()}, and not buffered; the scanner holds at most about twice
 * the bound. Work is linear in the bytes fed.
 *
 * <p>Not thread-safe: one scanner per stream, fed by one thread at a time (a proxy's chunks of one answer come in
 * order).
 */
public final class SseUsageScanner {

    /** The default bound on one event: 1 MiB, far above a chunk of an answer. */
    public static final int DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

    private static final byte[] DATA = {'d', 'a', 't', 'a'};
    private static final byte[] DONE = {'[', 'D', 'O', 'N', 'E', ']'};
    private static final byte[] BYTE_ORDER_MARK = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final int INITIAL_CAPACITY = 256;

    private final OpenAiUsageExtractor extractor;
    private final int maxEventBytes;

    /** The line being read, without its end. */
    private byte[] line = new byte[INITIAL_CAPACITY];
    private int lineLength;
    /** The data of the event being read: each data line's value followed by {@code \n}. */
    private byte[] data = new byte[INITIAL_CAPACITY];
    private int dataLength;
    /** The event being read grew past the bound: its bytes are passed over until its blank line. */
    private boolean skipping;
    /** While skipping: whether the current line has any byte, so that a blank line can still be told. */
    private boolean skippedLineHasBytes;
    /** The last byte fed was {@code \r}: a {@code \n} right after it ends no second line. */
    private boolean afterCarriageReturn;
    private boolean firstLine = true;
    private boolean done;
    private long skippedEvents;
    private TokenUsage usage;

    private SseUsageScanner(OpenAiUsageExtractor extractor, int maxEventBytes) {
        this.extractor = extractor;
        this.maxEventBytes = maxEventBytes;
    }

    /** A scanner with the default extractor and bound on an event ({@value #DEFAULT_MAX_EVENT_BYTES} bytes). */
    public static SseUsageScanner create() {
        return new SseUsageScanner(OpenAiUsageExtractor.create(), DEFAULT_MAX_EVENT_BYTES);
    }

    /**
     * A scanner that reads each event's data with {@code extractor} and skips events longer than
     * {@code maxEventBytes}.
     *
     * @throws IllegalArgumentException if the bound is not positive
     */
    public static SseUsageScanner create(OpenAiUsageExtractor extractor, int maxEventBytes) {
        Objects.requireNonNull(extractor, "extractor");
        Checks.positive("SseUsageScanner.maxEventBytes", maxEventBytes);
        return new SseUsageScanner(extractor, maxEventBytes);
    }

    /** Reads the next chunk of the stream. */
    public void feed(byte[] chunk) {
        Objects.requireNonNull(chunk, "chunk");
        feed(chunk, 0, chunk.length);
    }

    /** Reads the next chunk of the stream: {@code length} bytes of {@code bytes} from {@code offset}. */
    public void feed(byte[] bytes, int offset, int length) {
        Objects.requireNonNull(bytes, "bytes");
        Objects.checkFromIndexSize(offset, length, bytes.length);
        int end = offset + length;
        int i = offset;
        while (i < end) {
            if (afterCarriageReturn) {
                afterCarriageReturn = false;
                if (bytes[i] == '\n') {
                    i++;
                    continue;
                }
            }
            int lineEnd = i;
            while (lineEnd < end && bytes[lineEnd] != '\n' && bytes[lineEnd] != '\r') {
                lineEnd++;
            }
            if (lineEnd > i) {
                append(bytes, i, lineEnd - i);
            }
            if (lineEnd == end) {
                return;
            }
            afterCarriageReturn = bytes[lineEnd] == '\r';
            endLine();
            i = lineEnd + 1;
        }
    }

    /**
     * Reads the next chunk of the stream: the buffer's remaining bytes. The buffer's position, limit and content are
     * left as they were, so that a proxy can send the same buffer on.
     */
    public void feed(ByteBuffer chunk) {
        Objects.requireNonNull(chunk, "chunk");
        if (chunk.hasArray()) {
            feed(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.remaining());
            return;
        }
        ByteBuffer view = chunk.duplicate();
        byte[] copy = new byte[Math.min(view.remaining(), 8 * 1024)];
        while (view.hasRemaining()) {
            int n = Math.min(copy.length, view.remaining());
            view.get(copy, 0, n);
            feed(copy, 0, n);
        }
    }

    /** The usage of the last event that carried one, so far. */
    public Optional<TokenUsage> usage() {
        return Optional.ofNullable(usage);
    }

    /** Whether an event whose data is {@code [DONE]} was read. */
    public boolean done() {
        return done;
    }

    /** How many events were skipped for being longer than the bound (their usage, if any, is not read). */
    public long skippedEvents() {
        return skippedEvents;
    }

    /** The bytes the scanner holds in its buffers now. */
    int bufferedCapacity() {
        return line.length + data.length;
    }

    @Override
    public String toString() {
        return "SseUsageScanner[usage=" + usage + ", done=" + done + ", skippedEvents=" + skippedEvents + "]";
    }

    private void append(byte[] bytes, int offset, int length) {
        if (skipping) {
            skippedLineHasBytes = true;
            return;
        }
        if (length > maxEventBytes - dataLength - lineLength) {
            skip();
            return;
        }
        line = ensure(line, lineLength + length);
        System.arraycopy(bytes, offset, line, lineLength, length);
        lineLength += length;
    }

    /** The event outgrew the bound: drop what it buffered and pass over the rest of it. */
    private void skip() {
        skipping = true;
        skippedLineHasBytes = true;
        skippedEvents++;
        lineLength = 0;
        dataLength = 0;
    }

    private void endLine() {
        if (skipping) {
            if (!skippedLineHasBytes) {
                skipping = false;
            }
            skippedLineHasBytes = false;
            firstLine = false;
            return;
        }
        int start = 0;
        if (firstLine) {
            firstLine = false;
            if (startsWith(line, 0, lineLength, BYTE_ORDER_MARK)) {
                start = BYTE_ORDER_MARK.length;
            }
        }
        if (start == lineLength) {
            dispatch();
        } else {
            field(start);
        }
        lineLength = 0;
    }

    /** One line of an event, from {@code start}: a comment, or a field with its value after the first colon. */
    private void field(int start) {
        if (line[start] == ':') {
            return;
        }
        int colon = start;
        while (colon < lineLength && line[colon] != ':') {
            colon++;
        }
        if (colon - start != DATA.length || !startsWith(line, start, lineLength, DATA)) {
            return;
        }
        int value = colon + 1;
        if (value < lineLength && line[value] == ' ') {
            value++;
        }
        int valueLength = Math.max(0, lineLength - value);
        // the line was within the bound with the data before it; its value and a \n take no more
        data = ensure(data, dataLength + valueLength + 1);
        System.arraycopy(line, Math.min(value, lineLength), data, dataLength, valueLength);
        dataLength += valueLength;
        data[dataLength++] = '\n';
    }

    private void dispatch() {
        if (dataLength == 0) {
            return;
        }
        int length = dataLength - 1; // the last \n
        dataLength = 0;
        if (length == DONE.length && startsWith(data, 0, length, DONE)) {
            done = true;
            return;
        }
        extractor.extract(data, 0, length).ifPresent(found -> usage = found);
    }

    private static boolean startsWith(byte[] bytes, int from, int to, byte[] prefix) {
        if (to - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** {@code buffer}, or a larger copy of it that holds {@code needed} bytes. */
    private byte[] ensure(byte[] buffer, int needed) {
        if (needed <= buffer.length) {
            return buffer;
        }
        // doubling keeps appends linear; the bound keeps the buffer within it
        int capacity = (int) Math.min(Math.max((long) buffer.length * 2, needed), (long) maxEventBytes + 1);
        return Arrays.copyOf(buffer, Math.max(capacity, needed));
    }
}
