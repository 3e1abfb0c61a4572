SELECT id, name, customer_id FROM tollgate_team ORDER BY seq
