SELECT id, name FROM tollgate_customer ORDER BY seq
