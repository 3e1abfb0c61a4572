package io.tollgate.spring;

import io.tollgate.HolderKind;
import io.tollgate.Limit;

import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * Which limits are in shadow, from {@code tollgate.shadow.*}: all of them, or those of the holders named by kind
 * ({@code team}) or by kind and id ({@code virtual-key:vk-search}).
 *
 * <p>Immutable and thread-safe.
 */
final class ShadowedLimits implements Predicate<Limit> {

    private final List<Selector> selectors;

    private ShadowedLimits(List<Selector> selectors) {
        this.selectors = selectors;
    }

    /** The limits {@code holders} name, or null when none are in shadow. */
    static Predicate<Limit> of(boolean all, List<String> holders) {
        if (all) {
            return limit -> true;
        }
        if (holders.isEmpty()) {
            return null;
        }
        return new ShadowedLimits(holders.stream().map(ShadowedLimits::parse).toList());
    }

    static Selector parse(String text) {
        String trimmed = text == null ? "" : text.trim();
        int colon = trimmed.indexOf(':');
        String kind = colon < 0 ? trimmed : trimmed.substring(0, colon);
        String id = colon < 0 ? null : trimmed.substring(colon + 1);
        try {
            return new Selector(HolderKind.valueOf(kind.toUpperCase(Locale.ROOT).replace('-', '_')),
                    id == null || id.isEmpty() ? null : id);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not a holder kind (customer, team, virtual-key, "
                    + "provider-config, user, model-config), optionally followed by :id");
        }
    }

    @Override
    public boolean test(Limit limit) {
        for (Selector selector : selectors) {
            if (selector.kind == limit.holder().kind()
                    && (selector.id == null || selector.id.equals(limit.holder().id()))) {
                return true;
            }
        }
        return false;
    }

    record Selector(HolderKind kind, String id) {
    }
}
