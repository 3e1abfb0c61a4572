package io.tollgate;

/** What kind of entity holds a limit. The order is the order in which a request's limits are listed. */
public enum HolderKind {
    VIRTUAL_KEY,
    PROVIDER_CONFIG,
    TEAM,
    CUSTOMER,
    USER,
    MODEL_CONFIG
}
