DELETE FROM tollgate_team WHERE id = :id
