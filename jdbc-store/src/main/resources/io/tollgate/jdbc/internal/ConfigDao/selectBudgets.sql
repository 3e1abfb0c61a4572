SELECT holder_kind, holder_id, provider, position, max_nanos, window_id, leased
FROM tollgate_budget
ORDER BY holder_kind, holder_id, provider, position
