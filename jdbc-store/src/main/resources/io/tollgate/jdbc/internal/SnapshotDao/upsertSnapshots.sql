-- Idempotent, and the latest value wins: a row takes the written values only when their version is higher than its
-- own, so a replay, or a replica flushing an older value, never moves a counter back in time. MariaDB assigns from
-- left to right, each expression seeing the columns set before it: version comes last, so every condition compares
-- with the version the row had before this write.
INSERT INTO tollgate_usage_snapshot (holder_kind, holder_id, metric, window_id, window_start, window_end, amount,
                                     version, updated_at)
VALUES (:holderKind, :holderId, :metric, :windowId, :windowStart, :windowEnd, :amount, :version, :updatedAt)
ON DUPLICATE KEY UPDATE
    updated_at = IF(VALUES(version) > version AND VALUES(amount) <> amount, VALUES(updated_at), updated_at),
    amount     = IF(VALUES(version) > version, VALUES(amount), amount),
    window_end = IF(VALUES(version) > version, VALUES(window_end), window_end),
    version    = GREATEST(version, VALUES(version))
