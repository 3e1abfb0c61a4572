-- Tollgate's tables. They live in the user's database beside the user's own tables, so every name starts with
-- "tollgate_" and Flyway records them in its own history table, tollgate_schema_history.
--
-- Conventions:
-- * Ids and names use utf8mb4_nopad_bin: ids are opaque and exact ("A" is not "a", "a " is not "a").
-- * Instants are epoch milliseconds in BIGINT (the same numbers as io.tollgate.Window and the Redis keys, with no
--   time zone conversion anywhere); read them with FROM_UNIXTIME(column / 1000). A window that never ends has
--   window_end = 9223372036854775807.
-- * Money is BIGINT nanodollars (10^-9 dollars); token and request counts are BIGINT too.
-- * A window layout is the text of io.tollgate.WindowSpec#id(): 1h, 1d@1700000000000, cal:1M@Europe/Paris, none.
-- * Limits are keyed by holder kind (the names of io.tollgate.HolderKind) and the holder's id.

-- One row, id 1. Every configuration change bumps the version in the same transaction; writers lock this row first
-- (SELECT ... FOR UPDATE) so they apply one at a time, and watchers poll it to learn that something changed.
CREATE TABLE tollgate_config_version (
    id         TINYINT NOT NULL,
    version    BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

INSERT INTO tollgate_config_version (id, version, updated_at) VALUES (1, 0, 0);

-- seq keeps the order in which entities were first written, so a configuration loads in the order it was given.
CREATE TABLE tollgate_customer (
    id   VARCHAR(255)  NOT NULL,
    name VARCHAR(1024) NULL,
    seq  BIGINT        NOT NULL AUTO_INCREMENT,
    PRIMARY KEY (id),
    UNIQUE KEY tollgate_customer_seq (seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE tollgate_team (
    id          VARCHAR(255)  NOT NULL,
    name        VARCHAR(1024) NULL,
    customer_id VARCHAR(255)  NULL,
    seq         BIGINT        NOT NULL AUTO_INCREMENT,
    PRIMARY KEY (id),
    UNIQUE KEY tollgate_team_seq (seq),
    CONSTRAINT tollgate_team_customer FOREIGN KEY (customer_id) REFERENCES tollgate_customer (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- Only the SHA-256 of a virtual key's secret is stored, never the secret. expires_at is epoch seconds with nine
-- decimals, exact to the nanosecond for any java.time.Instant.
CREATE TABLE tollgate_virtual_key (
    id          VARCHAR(255)            NOT NULL,
    name        VARCHAR(1024)           NULL,
    secret_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    team_id     VARCHAR(255)            NULL,
    customer_id VARCHAR(255)            NULL,
    active      BOOLEAN                 NOT NULL,
    expires_at  DECIMAL(30, 9)          NULL,
    seq         BIGINT                  NOT NULL AUTO_INCREMENT,
    PRIMARY KEY (id),
    UNIQUE KEY tollgate_virtual_key_secret_hash (secret_hash),
    UNIQUE KEY tollgate_virtual_key_seq (seq),
    CONSTRAINT tollgate_virtual_key_team FOREIGN KEY (team_id) REFERENCES tollgate_team (id),
    CONSTRAINT tollgate_virtual_key_customer FOREIGN KEY (customer_id) REFERENCES tollgate_customer (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE tollgate_provider_config (
    virtual_key_id VARCHAR(255) NOT NULL,
    provider       VARCHAR(255) NOT NULL,
    position       INT          NOT NULL,
    PRIMARY KEY (virtual_key_id, provider),
    CONSTRAINT tollgate_provider_config_virtual_key FOREIGN KEY (virtual_key_id)
        REFERENCES tollgate_virtual_key (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- rule is ALLOWED or BLOCKED; model is a model name or * for every model.
CREATE TABLE tollgate_provider_model (
    virtual_key_id VARCHAR(255) NOT NULL,
    provider       VARCHAR(255) NOT NULL,
    rule           VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    model          VARCHAR(255) NOT NULL,
    PRIMARY KEY (virtual_key_id, provider, rule, model),
    CONSTRAINT tollgate_provider_model_provider_config FOREIGN KEY (virtual_key_id, provider)
        REFERENCES tollgate_provider_config (virtual_key_id, provider) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE tollgate_user (
    id  VARCHAR(255) NOT NULL,
    seq BIGINT       NOT NULL AUTO_INCREMENT,
    PRIMARY KEY (id),
    UNIQUE KEY tollgate_user_seq (seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- scope is GLOBAL, VIRTUAL_KEY or USER; scope_id names the virtual key or user (checked by the library, since it
-- points at one of two tables). provider NULL means any provider.
CREATE TABLE tollgate_model_config (
    id       VARCHAR(255) NOT NULL,
    model    VARCHAR(255) NOT NULL,
    provider VARCHAR(255) NULL,
    scope    VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    scope_id VARCHAR(255) NULL,
    seq      BIGINT       NOT NULL AUTO_INCREMENT,
    PRIMARY KEY (id),
    UNIQUE KEY tollgate_model_config_seq (seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- Budgets and rate limits of every holder. holder_id is the entity's id; for a PROVIDER_CONFIG it is the virtual
-- key's id and provider names the provider config (empty for every other kind), so that ids containing "/" stay
-- unambiguous.
CREATE TABLE tollgate_budget (
    holder_kind VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    holder_id   VARCHAR(255) NOT NULL,
    provider    VARCHAR(255) NOT NULL DEFAULT '',
    position    INT          NOT NULL,
    max_nanos   BIGINT       NOT NULL,
    window_id   VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (holder_kind, holder_id, provider, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- A maximum of 0 with a NULL window means "no limit of that kind".
CREATE TABLE tollgate_rate_limit (
    holder_kind       VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    holder_id         VARCHAR(255) NOT NULL,
    provider          VARCHAR(255) NOT NULL DEFAULT '',
    token_max         BIGINT       NOT NULL,
    token_window_id   VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NULL,
    request_max       BIGINT       NOT NULL,
    request_window_id VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NULL,
    PRIMARY KEY (holder_kind, holder_id, provider)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- The absolute amount used per counter and window, written by the snapshot flusher of every replica. A write never
-- lowers an amount (GREATEST), so concurrent and repeated flushes are harmless. holder_id is io.tollgate.Holder#id()
-- ("vk-1/openai" for a provider config); metric is REQUESTS, TOKENS or COST (nanodollars). updated_at is when the
-- amount last rose. Rows are history: nothing deletes them but UsageHistory#deleteWindowsEndedBefore.
CREATE TABLE tollgate_usage_snapshot (
    holder_kind  VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    holder_id    VARCHAR(512) NOT NULL,
    metric       VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    window_id    VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    window_start BIGINT       NOT NULL,
    window_end   BIGINT       NOT NULL,
    amount       BIGINT       NOT NULL,
    updated_at   BIGINT       NOT NULL,
    PRIMARY KEY (holder_kind, holder_id, metric, window_id, window_start),
    -- restore reads the windows that have not ended yet
    KEY tollgate_usage_snapshot_window_end (window_end)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
