package io.tollgate.redis.internal;

import io.tollgate.CounterId;
import io.tollgate.Holder;
import io.tollgate.HolderKind;
import io.tollgate.Metric;
import io.tollgate.redis.RedisPlacement;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * The names of every key the store writes, and the way back from a counter key to its counter.
 *
 * <pre>
 *   &lt;prefix&gt;:v1:c:{tag}:&lt;kind&gt;:&lt;id&gt;:&lt;metric&gt;:&lt;windowId&gt;:&lt;windowStart&gt;   a counter of one window
 *   &lt;prefix&gt;:v1:{tag}:changed                                                 change log of the tag (sorted set)
 *   &lt;prefix&gt;:v1:{tag}:seq                                                     change sequence number of the tag
 *   &lt;prefix&gt;:v1:{tag}:mark                                                    last sequence number handed out
 *   &lt;prefix&gt;:v1:{tag}:marks                                                   sequence numbers by time read
 *   &lt;prefix&gt;:v1:{tag}:ready                                                   data-loss marker of the tag
 *   &lt;prefix&gt;:v1:{tag}:i:&lt;idempotency key&gt;                                       charge seen (in this tag)
 *   &lt;prefix&gt;:v1:{tg}:cursor[:&lt;mark&gt;]                                          Cluster only: change log marks
 * </pre>
 *
 * Ids, window ids and idempotency keys are {@linkplain #escape percent-encoded}, so no id can add a segment or a
 * hash tag. Every key carries a hash tag, and every script touches the keys of one tag only:
 * <ul>
 *   <li>standalone Redis: one tag, {@code {tg}}, for every key, so one script covers a whole request;</li>
 *   <li>Redis Cluster: {@value #CLUSTER_TAGS} tags {@code {tg0}} .. {@code {tg1023}}, each with its own change log,
 *       sequence and data-loss marker. A holder's counters take the tag of its {@linkplain RedisPlacement#anchor
 *       anchor}, by a CRC-32 of the anchor's kind and id: holders that share an anchor share a slot, and the anchors
 *       spread evenly over the cluster's slots. A fixed number of tags keeps the store's own keys (and the work of
 *       reading every change log) bounded, however many holders there are.</li>
 * </ul>
 * {@link #tagOf(Holder)} is the one place that chooses a holder's tag.
 *
 * <p>Immutable and thread-safe (given a thread-safe placement).
 */
public final class KeySpace {

    /** Number of hash tags on Redis Cluster. Part of the key layout: changing it moves every counter. */
    public static final int CLUSTER_TAGS = 1024;

    private static final String VERSION = ":v1:";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    private static final HolderKind[] KINDS = HolderKind.values();
    private static final Metric[] METRICS = Metric.values();
    private static final String STORE_TAG = "{tg}";

    private final String prefix;
    private final String counterHead;
    /** Null on standalone Redis: one tag for everything. */
    private final RedisPlacement placement;
    private final String[] tags;
    private final String[] ready;
    private final String[] changed;
    private final String[] sequence;
    private final String[] mark;
    private final String[] marks;
    private final String[] idempotencyHead;
    private final String cursor;

    /** The standalone layout. */
    public KeySpace(String prefix) {
        this(prefix, null);
    }

    private KeySpace(String prefix, RedisPlacement placement) {
        this.prefix = prefix;
        this.placement = placement;
        this.counterHead = prefix + VERSION + "c:";
        int count = placement == null ? 1 : CLUSTER_TAGS;
        tags = new String[count];
        ready = new String[count];
        changed = new String[count];
        sequence = new String[count];
        mark = new String[count];
        marks = new String[count];
        idempotencyHead = new String[count];
        for (int t = 0; t < count; t++) {
            String tag = placement == null ? STORE_TAG : "{tg" + t + "}";
            String head = prefix + VERSION + tag;
            tags[t] = tag;
            ready[t] = head + ":ready";
            changed[t] = head + ":changed";
            sequence[t] = head + ":seq";
            mark[t] = head + ":mark";
            marks[t] = head + ":marks";
            idempotencyHead[t] = head + ":i:";
        }
        cursor = prefix + VERSION + STORE_TAG + ":cursor";
    }

    /** The standalone layout: one tag for every key. */
    public static KeySpace standalone(String prefix) {
        return new KeySpace(prefix, null);
    }

    /** The Redis Cluster layout: {@value #CLUSTER_TAGS} tags, holders placed by {@code placement}. */
    public static KeySpace cluster(String prefix, RedisPlacement placement) {
        return new KeySpace(prefix, Objects.requireNonNull(placement, "placement"));
    }

    /** Whether keys spread over several tags (Redis Cluster). */
    public boolean clustered() {
        return placement != null;
    }

    /** The version of the placement: holders may change tags when it changes. */
    public Object placementVersion() {
        return placement == null ? this : placement.version();
    }

    /** How many tags there are: 1 on standalone Redis. */
    public int tagCount() {
        return tags.length;
    }

    /** The hash tag of a holder's counters, as an index from 0 to {@link #tagCount()} - 1. */
    public int tagOf(Holder holder) {
        if (placement == null) {
            return 0;
        }
        Holder anchor = Objects.requireNonNull(placement.anchor(holder), "RedisPlacement.anchor returned null");
        CRC32 crc = new CRC32();
        crc.update(kindName(anchor.kind()).getBytes(StandardCharsets.UTF_8));
        crc.update(':');
        crc.update(anchor.id().getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % tags.length);
    }

    /** The hash tag text of a tag index, braces included. */
    public String tag(int tag) {
        return tags[tag];
    }

    public String prefix() {
        return prefix;
    }

    /** The data-loss marker of a tag. */
    public String ready(int tag) {
        return ready[tag];
    }

    /** The change log of a tag: member counter key, score the change sequence number of its last change. */
    public String changed(int tag) {
        return changed[tag];
    }

    /** The change sequence of a tag: incremented by every script call that changes a counter of it. */
    public String sequence(int tag) {
        return sequence[tag];
    }

    /** The last sequence number of a tag handed to a change log reader. */
    public String mark(int tag) {
        return mark[tag];
    }

    /** Sequence numbers of a tag by the store time they were read at, to trim the change log by age. */
    public String marks(int tag) {
        return marks[tag];
    }

    /** Cluster only: the counter of change log marks; the mark {@code m}'s sequence numbers are at {@code :m}. */
    public String cursor() {
        return cursor;
    }

    /** The data-loss marker of the only tag of the standalone layout. */
    public String ready() {
        return ready[0];
    }

    /** The idempotency key of a charge in a tag. */
    public String idempotency(int tag, String idempotencyKey) {
        return idempotencyHead[tag].concat(escape(idempotencyKey));
    }

    /** A counter key without its window start: the scripts append {@code :<windowStart>}. */
    public String counterBase(CounterId counter) {
        Holder holder = counter.holder();
        return new StringBuilder(96)
                .append(counterHead).append(tags[tagOf(holder)]).append(':')
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
