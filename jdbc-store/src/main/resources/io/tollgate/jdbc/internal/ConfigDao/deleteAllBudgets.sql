DELETE FROM tollgate_budget
