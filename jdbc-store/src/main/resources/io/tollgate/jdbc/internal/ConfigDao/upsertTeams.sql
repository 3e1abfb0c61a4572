INSERT INTO tollgate_team (id, name, customer_id) VALUES (:id, :name, :customerId)
ON DUPLICATE KEY UPDATE name = VALUES(name), customer_id = VALUES(customer_id)
