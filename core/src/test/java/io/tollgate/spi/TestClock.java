package io.tollgate.spi;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that stands still until a test moves it: {@link #set(Instant)} jumps to any instant, past or future, and
 * {@link #advance(Duration)} moves it on. Millisecond resolution, like every window.
 *
 * <p>Thread-safe: the time is one atomic value, and clocks made by {@link #withZone(ZoneId)} share it.
 */
public final class TestClock extends Clock {

    private final AtomicLong millis;
    private final ZoneId zone;

    public TestClock(Instant start) {
        this(new AtomicLong(start.toEpochMilli()), ZoneOffset.UTC);
    }

    private TestClock(AtomicLong millis, ZoneId zone) {
        this.millis = millis;
        this.zone = zone;
    }

    /** Jumps to {@code instant}; the clock may go backwards. */
    public void set(Instant instant) {
        millis.set(instant.toEpochMilli());
    }

    /** Moves the clock on by {@code duration} (backwards when negative) and returns the new time. */
    public Instant advance(Duration duration) {
        return Instant.ofEpochMilli(millis.addAndGet(duration.toMillis()));
    }

    @Override
    public long millis() {
        return millis.get();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    /** A view in another zone that moves with this clock. */
    @Override
    public Clock withZone(ZoneId zone) {
        return new TestClock(millis, Objects.requireNonNull(zone, "zone"));
    }

    @Override
    public String toString() {
        return "TestClock[" + instant() + ", " + zone + "]";
    }
}
