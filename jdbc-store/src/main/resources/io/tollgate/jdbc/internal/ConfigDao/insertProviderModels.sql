INSERT INTO tollgate_provider_model (virtual_key_id, provider, rule, model)
VALUES (:virtualKeyId, :provider, :rule, :model)
