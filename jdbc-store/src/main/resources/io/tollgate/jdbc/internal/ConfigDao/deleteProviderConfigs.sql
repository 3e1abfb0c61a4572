DELETE FROM tollgate_provider_config WHERE virtual_key_id = :virtualKeyId
