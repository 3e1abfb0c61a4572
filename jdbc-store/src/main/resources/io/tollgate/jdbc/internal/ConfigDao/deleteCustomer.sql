DELETE FROM tollgate_customer WHERE id = :id
