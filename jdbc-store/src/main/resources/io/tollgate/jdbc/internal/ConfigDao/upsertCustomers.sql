-- an update keeps seq, so the customer keeps its place in the configuration
INSERT INTO tollgate_customer (id, name) VALUES (:id, :name)
ON DUPLICATE KEY UPDATE name = VALUES(name)
