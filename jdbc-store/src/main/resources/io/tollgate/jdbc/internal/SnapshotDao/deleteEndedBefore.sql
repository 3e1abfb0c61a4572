DELETE FROM tollgate_usage_snapshot WHERE window_end <= :cutoff
