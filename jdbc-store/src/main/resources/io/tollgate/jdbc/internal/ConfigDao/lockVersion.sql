SELECT version FROM tollgate_config_version WHERE id = 1 FOR UPDATE
