INSERT INTO tollgate_provider_config (virtual_key_id, provider, position)
VALUES (:virtualKeyId, :provider, :position)
