DELETE FROM tollgate_team
