INSERT INTO tollgate_virtual_key (id, name, secret_hash, team_id, customer_id, active, expires_at)
VALUES (:id, :name, :secretHash, :teamId, :customerId, :active, :expiresAt)
ON DUPLICATE KEY UPDATE name        = VALUES(name),
                        secret_hash = VALUES(secret_hash),
                        team_id     = VALUES(team_id),
                        customer_id = VALUES(customer_id),
                        active      = VALUES(active),
                        expires_at  = VALUES(expires_at)
