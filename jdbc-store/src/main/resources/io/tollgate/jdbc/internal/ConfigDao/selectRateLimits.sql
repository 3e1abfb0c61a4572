SELECT holder_kind, holder_id, provider, token_max, token_window_id, request_max, request_window_id
FROM tollgate_rate_limit
