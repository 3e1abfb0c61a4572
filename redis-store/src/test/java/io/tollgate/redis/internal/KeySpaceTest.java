package io.tollgate.redis.internal;

import io.tollgate.CounterId;
import io.tollgate.Holder;
import io.tollgate.HolderKind;
import io.tollgate.Metric;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeySpaceTest {

    private final KeySpace keys = KeySpace.standalone("app:tollgate");

    @Test
    void plainIdsStayReadableAndOthersArePercentEncoded() {
        assertThat(KeySpace.escape("key-42_v1.0")).isEqualTo("key-42_v1.0");
        assertThat(KeySpace.escape("a:b{c}d%e f")).isEqualTo("a%3Ab%7Bc%7Dd%25e%20f");
        assertThat(KeySpace.escape("ü")).isEqualTo("%C3%BC");
        assertThat(KeySpace.escape("😀")).isEqualTo("%F0%9F%98%80");
    }

    @Test
    void escapingIsReversibleForAnyText() {
        Random random = new Random(42);
        for (int i = 0; i < 10_000; i++) {
            StringBuilder text = new StringBuilder();
            int length = 1 + random.nextInt(12);
            while (text.length() < length) {
                int codePoint = switch (random.nextInt(4)) {
                    case 0 -> 32 + random.nextInt(95);
                    case 1 -> 128 + random.nextInt(2_000);
                    case 2 -> 0x1F600 + random.nextInt(50);
                    default -> "{}:% /".charAt(random.nextInt(6));
                };
                text.appendCodePoint(codePoint);
            }
            String escaped = KeySpace.escape(text.toString());
            assertThat(escaped).matches("[A-Za-z0-9._%-]+");
            assertThat(KeySpace.unescape(escaped)).isEqualTo(text.toString());
        }
    }

    @Test
    void counterKeysReadBackToTheirCounter() {
        for (HolderKind kind : HolderKind.values()) {
            for (Metric metric : Metric.values()) {
                CounterId id = new CounterId(new Holder(kind, "id:{x} ü"), metric, "cal:1M@Europe/Paris");
                String key = keys.counterKey(id, -86_400_000L);
                assertThat(key).startsWith("app:tollgate:v2:c:{tg}:").endsWith(":-86400000");
                assertThat(keys.parse(key)).isEqualTo(new KeySpace.ParsedKey(id, -86_400_000L));
            }
        }
        assertThat(keys.counterKey(new CounterId(Holder.virtualKey("vk-1"), Metric.REQUESTS, "1m"), 60_000))
                .isEqualTo("app:tollgate:v2:c:{tg}:vk:vk-1:requests:1m:60000");
    }

    @Test
    void textThatIsNotACounterKeyOfThisPrefixIsNotParsed() {
        assertThat(keys.parse("other:v2:c:{tg}:vk:a:requests:1m:0")).isNull();
        assertThat(keys.parse("app:tollgate:v2:c:{tg}:vk:a:requests:1m")).isNull();
        assertThat(keys.parse("app:tollgate:v2:c:{tg}:nope:a:requests:1m:0")).isNull();
        assertThat(keys.parse("app:tollgate:v2:c:{tg}:vk:a:joules:1m:0")).isNull();
        assertThat(keys.parse("app:tollgate:v2:c:{tg}:vk:a:requests:1m:zero")).isNull();
        assertThat(keys.parse("app:tollgate:v2:c:{tg}:vk:a%:requests:1m:0")).isNull();
        assertThat(keys.parse(keys.tagKeys(0).epoch())).isNull();
        assertThat(keys.parse(keys.tagKeys(0).idempotency("r1"))).isNull();
    }

    @Test
    void theTagOfACounterKeyIsReadFromItsBraces() {
        KeySpace cluster = KeySpace.cluster("app", io.tollgate.redis.RedisPlacement.perHolder());
        CounterId id = new CounterId(Holder.user("u-7"), Metric.TOKENS, "1m");
        int tag = cluster.tagOf(id.holder());
        assertThat(cluster.tagOfKey(cluster.counterKey(id, 60_000))).isEqualTo(tag);
        assertThat(cluster.tagOfKey("app:v2:c:{tg99999}:user:u-7:tokens:1m:0")).isEqualTo(-1);
        assertThat(cluster.tagOfKey("other:v2:c:{tg1}:user:u-7:tokens:1m:0")).isEqualTo(-1);
        assertThat(keys.tagOfKey(keys.counterKey(id, 60_000))).isZero();
        assertThat(keys.tagOfKey("elsewhere")).isEqualTo(-1);
    }

    @Test
    void badEscapesAreRejectedWithTheText() {
        assertThatThrownBy(() -> KeySpace.unescape("a%4")).hasMessageContaining("a%4");
        assertThatThrownBy(() -> KeySpace.unescape("a%zz")).hasMessageContaining("a%zz");
    }
}
