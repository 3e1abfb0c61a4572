SELECT id, name, secret_hash, team_id, customer_id, active, expires_at
FROM tollgate_virtual_key
ORDER BY seq
