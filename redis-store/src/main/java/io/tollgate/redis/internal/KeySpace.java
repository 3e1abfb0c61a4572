package io.tollgate.redis.internal;

import io.tollgate.CounterId;
import io.tollgate.Holder;
import io.tollgate.HolderKind;
import io.tollgate.Metric;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The names of every key the store writes, and the way back from a counter key to its counter.
 *
 * <pre>
 *   &lt;prefix&gt;:v1:c:{tg}:&lt;kind&gt;:&lt;id&gt;:&lt;metric&gt;:&lt;windowId&gt;:&lt;windowStart&gt;   a counter of one window
 *   &lt;prefix&gt;:v1:{tg}:changed                                                  change log (sorted set)
 *   &lt;prefix&gt;:v1:{tg}:seq                                                      change sequence number
 *   &lt;prefix&gt;:v1:{tg}:mark                                                     last sequence number handed out
 *   &lt;prefix&gt;:v1:{tg}:marks                                                    sequence numbers by time read
 *   &lt;prefix&gt;:v1:{tg}:ready                                                    data-loss marker
 *   &lt;prefix&gt;:v1:{tg}:i:&lt;idempotency key&gt;                                        charge seen
 * </pre>
 *
 * Ids, window ids and idempotency keys are {@linkplain #escape percent-encoded}, so no id can add a segment or a
 * hash tag. Every key carries a hash tag; {@link #hashTag(Holder)} is the one place that chooses it.
 *
 * <p>Immutable and thread-safe.
 */
public final class KeySpace {

    private static final String VERSION = ":v1:";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    private static final HolderKind[] KINDS = HolderKind.values();
    private static final Metric[] METRICS = Metric.values();

    private final String prefix;
    private final String counterHead;
    private final String ready;
    private final String changed;
    private final String sequence;
    private final String mark;
    private final String marks;
    private final String idempotencyHead;

    public KeySpace(String prefix) {
        this.prefix = prefix;
        this.counterHead = prefix + VERSION + "c:";
        String storeTag = hashTag(null);
        this.ready = prefix + VERSION + storeTag + ":ready";
        this.changed = prefix + VERSION + storeTag + ":changed";
        this.sequence = prefix + VERSION + storeTag + ":seq";
        this.mark = prefix + VERSION + storeTag + ":mark";
        this.marks = prefix + VERSION + storeTag + ":marks";
        this.idempotencyHead = prefix + VERSION + storeTag + ":i:";
    }

    /**
     * The hash tag of a holder's counters, or of the store's own keys for {@code null}. Standalone Redis: one tag for
     * every key, so that every script's keys share one slot whatever the layout; a Cluster layout changes only this
     * method (and where the change log and marker live).
     */
    static String hashTag(Holder holder) {
        return "{tg}";
    }

    public String prefix() {
        return prefix;
    }

    /** The data-loss marker. */
    public String ready() {
        return ready;
    }

    /** The change log: member counter key, score the change sequence number of its last change. */
    public String changed() {
        return changed;
    }

    /** The change sequence: incremented by every script call that changes a counter. */
    public String sequence() {
        return sequence;
    }

    /** The last sequence number handed to a change log reader. */
    public String mark() {
        return mark;
    }

    /** Sequence numbers by the store time they were read at, to trim the change log by age. */
    public String marks() {
        return marks;
    }

    public String idempotency(String idempotencyKey) {
        return idempotencyHead.concat(escape(idempotencyKey));
    }

    /** A counter key without its window start: the scripts append {@code :<windowStart>}. */
    public String counterBase(CounterId counter) {
        Holder holder = counter.holder();
        return new StringBuilder(96)
                .append(counterHead).append(hashTag(holder)).append(':')
                .append(kindName(holder.kind())).append(':')
                .append(escape(holder.id())).append(':')
                .append(metricName(counter.metric())).append(':')
                .append(escape(counter.windowId()))
                .toString();
    }

    public String counterKey(CounterId counter, long windowStart) {
        return counterBase(counter) + ':' + windowStart;
    }

    /** The pattern of every counter key of this prefix, for {@code SCAN}. */
    public String counterPattern() {
        return counterHead + '*';
    }

    /** A counter key read back, or null if the text is not one of this prefix's counter keys. */
    public ParsedKey parse(String key) {
        if (!key.startsWith(counterHead) || key.length() <= counterHead.length()
                || key.charAt(counterHead.length()) != '{') {
            return null;
        }
        int tagEnd = key.indexOf('}', counterHead.length());
        if (tagEnd < 0 || tagEnd + 1 >= key.length() || key.charAt(tagEnd + 1) != ':') {
            return null;
        }
        String[] parts = new String[5];
        int from = tagEnd + 2;
        for (int i = 0; i < 4; i++) {
            int colon = key.indexOf(':', from);
            if (colon < 0) {
                return null;
            }
            parts[i] = key.substring(from, colon);
            from = colon + 1;
        }
        parts[4] = key.substring(from);
        if (parts[4].indexOf(':') >= 0) {
            return null;
        }
        try {
            HolderKind kind = kindOf(parts[0]);
            Metric metric = metricOf(parts[2]);
            if (kind == null || metric == null) {
                return null;
            }
            CounterId id = new CounterId(new Holder(kind, unescape(parts[1])), metric, unescape(parts[3]));
            return new ParsedKey(id, Long.parseLong(parts[4]));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** A counter key read back. Immutable and thread-safe. */
    public record ParsedKey(CounterId counter, long windowStart) {
    }

    static String kindName(HolderKind kind) {
        return switch (kind) {
            case VIRTUAL_KEY -> "vk";
            case PROVIDER_CONFIG -> "pc";
            case TEAM -> "team";
            case CUSTOMER -> "customer";
            case USER -> "user";
            case MODEL_CONFIG -> "model";
        };
    }

    static String metricName(Metric metric) {
        return switch (metric) {
            case REQUESTS -> "requests";
            case TOKENS -> "tokens";
            case COST -> "cost";
        };
    }

    private static HolderKind kindOf(String name) {
        for (HolderKind kind : KINDS) {
            if (kindName(kind).equals(name)) {
                return kind;
            }
        }
        return null;
    }

    private static Metric metricOf(String name) {
        for (Metric metric : METRICS) {
            if (metricName(metric).equals(name)) {
                return metric;
            }
        }
        return null;
    }

    /**
     * Percent-encodes every byte of the UTF-8 form outside {@code [A-Za-z0-9._-]}: readable for plain ids, reversible,
     * and free of {@code : { } %}, spaces and non-ASCII, so no id can break the layout. Text that needs no escape is
     * returned as it is.
     */
    public static String escape(String text) {
        int n = text.length();
        int i = 0;
        while (i < n && isPlain(text.charAt(i))) {
            i++;
        }
        if (i == n) {
            return text;
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            char c = (char) (b & 0xFF);
            if (c < 0x80 && isPlain(c)) {
                out.append(c);
            } else {
                out.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
            }
        }
        return out.toString();
    }

    /**
     * Reverses {@link #escape}.
     *
     * @throws IllegalArgumentException if the text is not escaped text
     */
    public static String unescape(String text) {
        if (text.indexOf('%') < 0) {
            return text;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '%') {
                if (i + 2 >= text.length()) {
                    throw new IllegalArgumentException("\"" + text + "\" ends inside an escape");
                }
                int hi = Character.digit(text.charAt(i + 1), 16);
                int lo = Character.digit(text.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("\"" + text + "\" has a bad escape at " + i);
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static boolean isPlain(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '_' || c == '-';
    }
}
