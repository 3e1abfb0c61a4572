DELETE FROM tollgate_model_config WHERE id = :id
