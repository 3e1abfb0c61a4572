-- a user has no column of its own to update; the no-op keeps its seq
INSERT INTO tollgate_user (id) VALUES (:id)
ON DUPLICATE KEY UPDATE id = id
