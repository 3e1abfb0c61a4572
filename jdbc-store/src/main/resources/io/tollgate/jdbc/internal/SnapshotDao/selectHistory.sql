SELECT holder_kind, holder_id, metric, window_id, window_start, window_end, amount, version, updated_at
FROM tollgate_usage_snapshot
WHERE holder_kind = :holderKind
  AND holder_id = :holderId
  AND (:metric IS NULL OR metric = :metric)
  AND window_start < :to
  AND window_end > :from
ORDER BY window_start, metric, window_id
