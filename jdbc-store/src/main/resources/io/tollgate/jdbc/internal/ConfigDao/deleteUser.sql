DELETE FROM tollgate_user WHERE id = :id
