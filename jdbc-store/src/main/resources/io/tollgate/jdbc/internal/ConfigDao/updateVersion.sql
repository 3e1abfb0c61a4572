UPDATE tollgate_config_version SET version = :version, updated_at = :updatedAt WHERE id = 1
