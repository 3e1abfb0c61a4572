package io.tollgate.redis;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RedisStoreOptionsTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        RedisStoreOptions options = RedisStoreOptions.defaults();
        assertThat(options.keyPrefix()).isEqualTo("tollgate");
        assertThat(options.commandTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(options.idempotencyKeyLifetime()).isEqualTo(Duration.ofHours(1));
        assertThat(options.expiredWindowRetention()).isEqualTo(Duration.ofMinutes(2));
        assertThat(options.leaseDuration()).isEqualTo(Duration.ofMinutes(5));
        assertThat(options.sweepInterval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(options.cacheDenials()).isTrue();
        assertThat(options.denialRecheck()).isEqualTo(Duration.ofSeconds(1));
        assertThat(options.snapshotSource()).isNull();
        assertThat(options.testTimeSource()).isNull();
        assertThat(options.clock()).isEqualTo(Clock.systemUTC());
        assertThat(options.toBuilder().build()).isEqualTo(options);
    }

    @Test
    void badValuesAreRejectedNamingTheFieldAndTheValue() {
        assertThatThrownBy(() -> RedisStoreOptions.builder().keyPrefix("a{b}").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyPrefix").hasMessageContaining("a{b}");
        assertThatThrownBy(() -> RedisStoreOptions.builder().keyPrefix("").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyPrefix");
        assertThatThrownBy(() -> RedisStoreOptions.builder().commandTimeout(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("commandTimeout: PT0S");
        assertThatThrownBy(() -> RedisStoreOptions.builder().commandTimeout(Duration.ofNanos(10)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("commandTimeout");
        assertThatThrownBy(() -> RedisStoreOptions.builder().idempotencyKeyLifetime(Duration.ofSeconds(-1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idempotencyKeyLifetime: PT-1S");
        assertThatThrownBy(() -> RedisStoreOptions.builder().expiredWindowRetention(Duration.ofSeconds(-1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expiredWindowRetention: PT-1S");
        assertThatThrownBy(() -> RedisStoreOptions.builder().leaseDuration(null).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leaseDuration: null");
        assertThatThrownBy(() -> RedisStoreOptions.builder().sweepInterval(Duration.ofMinutes(5)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expiredWindowRetention: PT2M must be at least the sweepInterval PT5M");
        assertThatThrownBy(() -> RedisStoreOptions.builder().denialRecheck(Duration.ofSeconds(-2)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("denialRecheck: PT-2S");
        assertThatThrownBy(() -> RedisStoreOptions.builder().clock(null).build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("clock");
        assertThat(RedisStoreOptions.builder().expiredWindowRetention(Duration.ZERO).sweepInterval(Duration.ZERO)
                .build().expiredWindowRetention()).isZero();
    }
}
