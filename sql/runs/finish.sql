UPDATE run_log SET
    ended_at = $ended_at, status = $status,
    rows_read = $rows_read, rows_loaded = $rows_loaded, rows_duplicate = $rows_duplicate,
    rows_conflicting = $rows_conflicting, rows_quarantined = $rows_quarantined,
    quarantined_by_reason = $quarantined_by_reason, units_seen = $units_seen,
    units_skipped = $units_skipped, units = $units, unmapped_names = $unmapped_names,
    dropped_columns = $dropped_columns, error = $error
WHERE run_id = $run_id;
