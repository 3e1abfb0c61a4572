-- provider configs and their model rules go by cascade
DELETE FROM tollgate_virtual_key
