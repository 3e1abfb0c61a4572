DELETE FROM tollgate_rate_limit WHERE holder_kind = :holderKind AND holder_id = :holderId
