INSERT INTO tollgate_rate_limit (holder_kind, holder_id, provider, token_max, token_window_id, request_max,
                                 request_window_id, in_flight_max, leased)
VALUES (:holderKind, :holderId, :provider, :tokenMax, :tokenWindowId, :requestMax, :requestWindowId, :inFlightMax,
        :leased)
