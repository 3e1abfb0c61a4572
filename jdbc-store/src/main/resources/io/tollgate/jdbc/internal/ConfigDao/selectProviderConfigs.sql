SELECT virtual_key_id, provider, position FROM tollgate_provider_config ORDER BY virtual_key_id, position
