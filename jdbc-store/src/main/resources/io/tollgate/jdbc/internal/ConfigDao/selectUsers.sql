SELECT id FROM tollgate_user ORDER BY seq
