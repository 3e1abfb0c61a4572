INSERT INTO tollgate_model_config (id, model, provider, scope, scope_id)
VALUES (:id, :model, :provider, :scope, :scopeId)
ON DUPLICATE KEY UPDATE model    = VALUES(model),
                        provider = VALUES(provider),
                        scope    = VALUES(scope),
                        scope_id = VALUES(scope_id)
