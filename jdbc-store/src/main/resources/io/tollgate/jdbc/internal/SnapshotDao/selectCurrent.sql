-- window_end > :now is the selective part (index tollgate_usage_snapshot_window_end): past windows are history
SELECT holder_kind, holder_id, metric, window_id, window_start, window_end, amount, version, updated_at
FROM tollgate_usage_snapshot
WHERE window_end > :now
  AND window_start <= :now
