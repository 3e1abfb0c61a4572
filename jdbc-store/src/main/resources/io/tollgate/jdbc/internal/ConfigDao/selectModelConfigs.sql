SELECT id, model, provider, scope, scope_id FROM tollgate_model_config ORDER BY seq
