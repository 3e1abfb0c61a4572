package io.tollgate.jdbc.internal;

import org.slf4j.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Logs a repeating failure once per outage: one WARN when the first attempt fails, nothing while later attempts fail,
 * one INFO when an attempt succeeds again. A log line per retry would bury everything else during a long outage.
 *
 * <p>Thread-safe.
 */
public final class OutageLog {

    private final Logger log;
    private final String activity;
    private final Clock clock;
    private Instant downSince;
    private long failedAttempts;
    private long outages;

    /** {@code activity} names what fails, such as "Snapshot flush to the database". */
    public OutageLog(Logger log, String activity, Clock clock) {
        this.log = log;
        this.activity = activity;
        this.clock = clock;
    }

    /** Records a failed attempt; logs at WARN only if it starts an outage. {@code consequence} ends the line. */
    public synchronized void failed(Throwable cause, String consequence) {
        failedAttempts++;
        if (downSince != null) {
            return;
        }
        downSince = clock.instant();
        outages++;
        log.warn("{} failed: {}. {}; logged once until it recovers.", activity, SqlErrors.describe(cause), consequence);
    }

    /** Records a successful attempt; logs at INFO if it ends an outage. {@code detail} ends the line. */
    public synchronized void succeeded(String detail) {
        if (downSince == null) {
            return;
        }
        Duration down = Duration.between(downSince, clock.instant());
        log.info("{} recovered after {} ms and {} failed attempts. {}", activity, down.toMillis(), failedAttempts, detail);
        downSince = null;
        failedAttempts = 0;
    }

    /** Whether the last attempt failed. */
    public synchronized boolean isDown() {
        return downSince != null;
    }

    /** How many outages began, that is how many WARN lines were logged. */
    public synchronized long outages() {
        return outages;
    }
}
