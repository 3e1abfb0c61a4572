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
 *   &lt;prefix&gt;:v2:c:{tag}:&lt;kind&gt;:&lt;id&gt;:&lt;metric&gt;:&lt;windowId&gt;:&lt;windowStart&gt;   a counter of one window
 *   &lt;prefix&gt;:v2:{tag}:epoch                                                 data epoch of the tag
 *   &lt;prefix&gt;:v2:{tag}:leases                                                lease set of the tag
 *   &lt;prefix&gt;:v2:{tag}:lease-due                                             earliest lease expiry of the tag
 *   &lt;prefix&gt;:v2:{tag}:lease-plan:&lt;id&gt;                                        counter keys some leases hold
 *   &lt;prefix&gt;:v2:{tag}:version                                               flush version sequence of the tag
 *   &lt;prefix&gt;:v2:{tag}:i:&lt;idempotency key&gt;                                     a charge seen (in this tag)
 *   &lt;prefix&gt;:v2:{tg}:sweep                                                   who sweeps every counter now
 * </pre>
 *
 * Ids, window ids and idempotency keys are {@linkplain #escape percent-encoded}, so no id can add a segment or a
 * hash tag. Every key carries a hash tag, and every script touches the keys of one tag only:
 * <ul>
 *   <li>standalone Redis: one tag, {@code {tg}}, for every key, so one script covers a whole request;</li>
 *   <li>Redis Cluster: {@value #CLUSTER_TAGS} tags {@code {tg0}} .. {@code {tg1023}}, each with its own epoch, leases
 *       and version. A holder's counters take the tag of its {@linkplain RedisPlacement#anchor anchor}, by a CRC-32 of
 *       the anchor's kind and id: holders that share an anchor share a slot, and the anchors spread evenly over the
 *       cluster's slots. A fixed number of tags keeps the store's own keys bounded, however many holders there
 *       are.</li>
 * </ul>
 * {@link #tagOf(Holder)} is the one place that chooses a holder's tag, {@link TagKeys} the one place that names a
 * tag's own keys.
 *
 * <p>Immutable and thread-safe (given a thread-safe placement).
 */
public final class KeySpace {

    /** Number of hash tags on Redis Cluster. Part of the key layout: changing it moves every counter. */
    public static final int CLUSTER_TAGS = 1024;

    private static final String VERSION = ":v2:";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    private static final HolderKind[] KINDS = HolderKind.values();
    private static final Metric[] METRICS = Metric.values();
    private static final String STORE_TAG = "{tg}";

    private final String prefix;
    private final String counterHead;
    /** Null on standalone Redis: one tag for everything. */
    private final RedisPlacement placement;
    private final String[] tags;
    private final TagKeys[] tagKeys;
    private final String sweep;

    private KeySpace(String prefix, RedisPlacement placement) {
        this.prefix = prefix;
        this.placement = placement;
        this.counterHead = prefix + VERSION + "c:";
        int count = placement == null ? 1 : CLUSTER_TAGS;
        tags = new String[count];
        tagKeys = new TagKeys[count];
        for (int t = 0; t < count; t++) {
            String tag = placement == null ? STORE_TAG : "{tg" + t + "}";
            String head = prefix + VERSION + tag;
            tags[t] = tag;
            tagKeys[t] = new TagKeys(head + ":epoch", head + ":leases", head + ":lease-due", head + ":version",
                    head + ":i:", head + ":lease-plan:");
        }
        sweep = prefix + VERSION + STORE_TAG + ":sweep";
    }

    /** The keys of one tag that every script of the tag may name. Immutable and thread-safe. */
    public record TagKeys(String epoch, String leases, String leaseDue, String version, String idempotencyHead,
                          String leasePlanHead) {

        /** The idempotency key of a charge in this tag. */
        public String idempotency(String idempotencyKey) {
            return idempotencyHead.concat(escape(idempotencyKey));
        }

        /** The key of a lease plan of this tag (the scripts derive it from the lease set's key the same way). */
        public String leasePlan(String id) {
            return leasePlanHead.concat(id);
        }
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

    /** The keys of tag {@code tag} (an index from 0 to {@link #tagCount()} - 1). */
    public TagKeys tagKeys(int tag) {
        return tagKeys[tag];
    }

    /** The key that names which replica sweeps every counter now. */
    public String sweep() {
        return sweep;
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

    /** The tag of a counter key this space wrote, from its braces; -1 for any other text. */
    public int tagOfKey(String key) {
        if (placement == null) {
            return key.startsWith(counterHead) ? 0 : -1;
        }
        int open = counterHead.length();
        if (!key.startsWith(counterHead) || key.length() < open + 5 || !key.startsWith("{tg", open)) {
            return -1;
        }
        int close = key.indexOf('}', open);
        try {
            int tag = Integer.parseInt(key, open + 3, close, 10);
            return tag >= 0 && tag < tags.length ? tag : -1;
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            return -1;
        }
    }

    /** A counter key without its window start, ending before the {@code :} that precedes the start. */
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
            case IN_FLIGHT -> "inflight";
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
