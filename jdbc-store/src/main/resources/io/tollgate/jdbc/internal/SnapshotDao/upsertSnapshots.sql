-- Idempotent and monotone: replaying a flush, or a replica flushing an older value, never lowers an amount.
INSERT INTO tollgate_usage_snapshot (holder_kind, holder_id, metric, window_id, window_start, window_end, amount,
                                     updated_at)
VALUES (:holderKind, :holderId, :metric, :windowId, :windowStart, :windowEnd, :amount, :updatedAt)
ON DUPLICATE KEY UPDATE
    -- updated_at comes first: it compares with the amount as it was before this write
    updated_at = IF(VALUES(amount) > amount, VALUES(updated_at), updated_at),
    amount     = GREATEST(amount, VALUES(amount)),
    window_end = VALUES(window_end)
