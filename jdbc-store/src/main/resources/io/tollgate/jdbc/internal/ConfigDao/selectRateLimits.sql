SELECT holder_kind, holder_id, provider, token_max, token_window_id, request_max, request_window_id,
       in_flight_max, leased
FROM tollgate_rate_limit
