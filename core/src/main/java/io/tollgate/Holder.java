package io.tollgate;

import io.tollgate.internal.Checks;

import java.util.Objects;

/**
 * The entity that holds a limit: a kind and an id. Ids are opaque: any non-empty text, including {@code :},
 * braces, spaces and non-ASCII characters. A virtual key is held by its id, never by its secret.
 *
 * <p>Immutable and thread-safe.
 */
public record Holder(HolderKind kind, String id) {

    public Holder {
        Objects.requireNonNull(kind, "Holder.kind");
        Checks.notBlank("Holder.id", id);
    }

    public static Holder virtualKey(String id) {
        return new Holder(HolderKind.VIRTUAL_KEY, id);
    }

    public static Holder team(String id) {
        return new Holder(HolderKind.TEAM, id);
    }

    public static Holder customer(String id) {
        return new Holder(HolderKind.CUSTOMER, id);
    }

    public static Holder user(String id) {
        return new Holder(HolderKind.USER, id);
    }

    public static Holder modelConfig(String id) {
        return new Holder(HolderKind.MODEL_CONFIG, id);
    }

    /**
     * A virtual key's provider config is held by the key id and the provider name together, as {@code key/provider}
     * with {@code %} and {@code /} in either escaped, so that no two pairs share a holder.
     */
    public static Holder providerConfig(String virtualKeyId, String provider) {
        return new Holder(HolderKind.PROVIDER_CONFIG, escapeSlash(virtualKeyId) + "/" + escapeSlash(provider));
    }

    private static String escapeSlash(String part) {
        if (part.indexOf('/') < 0 && part.indexOf('%') < 0) {
            return part;
        }
        return part.replace("%", "%25").replace("/", "%2F");
    }

    @Override
    public String toString() {
        return kind + ":" + id;
    }
}
