-- Keep the run's rejected rows (spilled to $rejected, personal data already masked): one
-- row per distinct content per city, so a bad row delivered again (a file re-delivered,
-- an API page fetched again within the lookback, the next nightly export) is not counted
-- twice. An unreadable file's row holds the file's name, so each file counts.
-- Parameters: $city, $run_id, $rejected, $discarded (units found unreadable later; their
-- rows are replaced by the one unreadable_file row, which is spilled with unit 0).
CREATE OR REPLACE TEMP MACRO rejected_rows(files, discarded) AS TABLE
SELECT *, md5(reason || chr(31) || raw) AS row_hash
FROM read_parquet(files)
WHERE _unit = 0 OR NOT list_contains(discarded, _unit)
QUALIFY row_number() OVER (PARTITION BY row_hash ORDER BY _unit, row_number) = 1;

UPDATE quarantine_store q SET last_run = $run_id
FROM rejected_rows($rejected, $discarded) r
WHERE q.city = $city AND q.row_hash = r.row_hash;

INSERT INTO quarantine_store
SELECT $city, r.row_hash, r.reason, r.detail, r.source, r.row_number, r.raw, $run_id, $run_id
FROM rejected_rows($rejected, $discarded) r
WHERE NOT EXISTS (SELECT 1 FROM quarantine_store q WHERE q.city = $city AND q.row_hash = r.row_hash);
