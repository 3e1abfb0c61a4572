SELECT virtual_key_id, provider, rule, model FROM tollgate_provider_model
