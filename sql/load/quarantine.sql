-- Keep rejected rows (registered as `batch`, already masked); one row per distinct content.
INSERT INTO quarantine_store
SELECT $city, row_hash, reason, detail, source, row_number, raw, $run_id, $run_id
FROM (
    SELECT *, md5(reason || chr(31) || raw) AS row_hash FROM batch
)
QUALIFY row_number() OVER (PARTITION BY row_hash ORDER BY row_number) = 1
ON CONFLICT (city, row_hash) DO UPDATE SET last_run = excluded.last_run;
