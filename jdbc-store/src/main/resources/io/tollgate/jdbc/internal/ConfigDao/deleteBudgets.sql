DELETE FROM tollgate_budget WHERE holder_kind = :holderKind AND holder_id = :holderId
