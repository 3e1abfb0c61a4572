package io.tollgate.it;

import java.util.Locale;

/** The one line each fault test prints. */
final class Summary {

    private Summary() {
    }

    static void print(String fault, long served, double p99Millis, double maxMillis, long usageLost,
                      double convergeSeconds, String extra) {
        System.out.println(String.format(Locale.ROOT,
                "FAULT SUMMARY %s: served=%d p99-during-fault=%.2fms max-during-fault=%.1fms usage-lost=%d "
                        + "converged-in=%.2fs%s",
                fault, served, p99Millis, maxMillis, usageLost, convergeSeconds, extra.isEmpty() ? "" : " " + extra));
    }
}
