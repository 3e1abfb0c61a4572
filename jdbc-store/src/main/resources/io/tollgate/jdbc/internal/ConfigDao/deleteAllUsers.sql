DELETE FROM tollgate_user
