SELECT run_id, city, started_at, ended_at, status, source, rows_read, rows_loaded,
       rows_duplicate, rows_conflicting, rows_quarantined, quarantined_by_reason,
       units_seen, units_skipped, unmapped_names, dropped_columns, error
FROM run_log
WHERE $city IS NULL OR city = $city
ORDER BY run_id DESC
LIMIT $limit;
