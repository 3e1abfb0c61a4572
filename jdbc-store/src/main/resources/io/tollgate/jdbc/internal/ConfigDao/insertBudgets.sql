INSERT INTO tollgate_budget (holder_kind, holder_id, provider, position, max_nanos, window_id, leased)
VALUES (:holderKind, :holderId, :provider, :position, :maxNanos, :windowId, :leased)
