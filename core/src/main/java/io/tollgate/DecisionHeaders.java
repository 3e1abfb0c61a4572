package io.tollgate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/** Writes a decision's headers under the names of a {@link RateLimitHeaders}. Stateless and thread-safe. */
final class DecisionHeaders {

    /** The largest integer an HTTP structured field may carry (RFC 8941): 15 digits. */
    private static final long SF_INTEGER_MAX = 999_999_999_999_999L;

    private DecisionHeaders() {
    }

    static Map<String, String> of(Decision decision, RateLimitHeaders names) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (names.retryAfter() != null) {
            decision.retryAfter().ifPresent(retry -> headers.put(names.retryAfter(), Long.toString(retry.toSeconds())));
        }
        if (names.tightest() != null) {
            int shown = decision.deniedByIndex() >= 0 ? decision.deniedByIndex() : tightest(decision);
            if (shown >= 0) {
                put(headers, names.tightest(), decision, shown, Long::toString);
            }
        }
        int requests = shownOf(decision, Metric.REQUESTS);
        int tokens = shownOf(decision, Metric.TOKENS);
        if (names.requests() != null && requests >= 0) {
            put(headers, names.requests(), decision, requests, DecisionHeaders::duration);
        }
        if (names.tokens() != null && tokens >= 0) {
            put(headers, names.tokens(), decision, tokens, DecisionHeaders::duration);
        }
        if (requests >= 0 || tokens >= 0) {
            if (names.policy() != null) {
                headers.put(names.policy(), items(decision, requests, tokens, true));
            }
            if (names.rateLimit() != null) {
                headers.put(names.rateLimit(), items(decision, requests, tokens, false));
            }
        }
        return headers;
    }

    private static void put(Map<String, String> headers, RateLimitHeaders.Fields fields, Decision decision, int index,
                            LongFunction<String> resetText) {
        LimitUsage usage = decision.limits().get(index);
        headers.put(fields.limit(), Long.toString(usage.limit().max()));
        headers.put(fields.remaining(), Long.toString(remaining(decision, index)));
        long reset = resetSeconds(decision, usage);
        if (reset >= 0) {
            headers.put(fields.reset(), resetText.apply(reset));
        }
    }

    /** IETF items for the request and token limits shown: the policies, or what is left of them. */
    private static String items(Decision decision, int requests, int tokens, boolean policy) {
        StringBuilder items = new StringBuilder();
        for (int index : new int[] {requests, tokens}) {
            if (index < 0) {
                continue;
            }
            LimitUsage usage = decision.limits().get(index);
            if (!items.isEmpty()) {
                items.append(", ");
            }
            items.append(usage.limit().metric() == Metric.REQUESTS ? "\"requests\"" : "\"tokens\"");
            Window window = usage.window();
            if (policy) {
                items.append(";q=").append(Math.min(SF_INTEGER_MAX, usage.limit().max()));
                if (!window.isUnbounded()) {
                    items.append(";w=").append(Math.min(SF_INTEGER_MAX, lengthSeconds(window)));
                }
            } else {
                items.append(";r=").append(Math.min(SF_INTEGER_MAX, remaining(decision, index)));
                long reset = resetSeconds(decision, usage);
                if (reset >= 0) {
                    items.append(";t=").append(Math.min(SF_INTEGER_MAX, reset));
                }
            }
        }
        return items.toString();
    }

    /** What the limit has left after this request; nothing for the limit that denied. */
    private static long remaining(Decision decision, int index) {
        if (index == decision.deniedByIndex()) {
            return 0;
        }
        return Math.max(0, decision.limits().get(index).remaining() - decision.taken(index));
    }

    /** Whole seconds until the limit's window ends, rounded up; -1 for a window that never ends. */
    private static long resetSeconds(Decision decision, LimitUsage usage) {
        if (usage.window().isUnbounded()) {
            return -1;
        }
        long millis = Math.max(0, usage.window().endMillis() - decision.decidedAtMillis());
        return (millis + 999) / 1000;
    }

    private static long lengthSeconds(Window window) {
        long start = window.startMillis();
        // a window clipped at the start of time is longer than any field can say
        long millis = start == Long.MIN_VALUE ? Long.MAX_VALUE : window.endMillis() - start;
        return millis / 1000 + (millis % 1000 == 0 ? 0 : 1);
    }

    /**
     * The limit of {@code metric} a per-metric set shows: the one that denied if it has that metric, else the one
     * with the least room after this request; -1 when there is none.
     */
    private static int shownOf(Decision decision, Metric metric) {
        int denied = decision.deniedByIndex();
        List<LimitUsage> limits = decision.limits();
        if (denied >= 0 && limits.get(denied).limit().metric() == metric) {
            return denied;
        }
        int best = -1;
        long bestRemaining = Long.MAX_VALUE;
        for (int i = 0; i < limits.size(); i++) {
            if (limits.get(i).limit().metric() != metric || !decision.enforced(i)) {
                continue;
            }
            long remaining = remaining(decision, i);
            if (best < 0 || remaining < bestRemaining) {
                best = i;
                bestRemaining = remaining;
            }
        }
        return best;
    }

    /** The request limit with the least room; without one, the limit with the least room. -1 when there is none. */
    private static int tightest(Decision decision) {
        List<LimitUsage> limits = decision.limits();
        int best = -1;
        for (int i = 0; i < limits.size(); i++) {
            if (!decision.enforced(i)) {
                continue;
            }
            LimitUsage usage = limits.get(i);
            boolean requests = usage.limit().metric() == Metric.REQUESTS;
            boolean bestRequests = best >= 0 && limits.get(best).limit().metric() == Metric.REQUESTS;
            if (best < 0 || (requests && !bestRequests)
                    || (requests == bestRequests && usage.remaining() < limits.get(best).remaining())) {
                best = i;
            }
        }
        return best;
    }

    /** Whole seconds as OpenAI writes a reset: {@code 0s}, {@code 45s}, {@code 6m0s}, {@code 1h0m5s}. */
    static String duration(long seconds) {
        long hours = seconds / 3600;
        long minutes = seconds % 3600 / 60;
        StringBuilder text = new StringBuilder();
        if (hours > 0) {
            text.append(hours).append('h');
        }
        if (hours > 0 || minutes > 0) {
            text.append(minutes).append('m');
        }
        return text.append(seconds % 60).append('s').toString();
    }
}
