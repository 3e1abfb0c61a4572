DELETE FROM tollgate_virtual_key WHERE id = :id
