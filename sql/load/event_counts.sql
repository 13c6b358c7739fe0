-- Counts for the run record, read after merge_events: rows staged, rows that reached
-- the store (new or changed), and superseded rows whose content differed from the
-- version that won. Parameters: $stage, $discarded.
SELECT
    (SELECT count(*) FROM read_parquet($stage) WHERE NOT list_contains($discarded, _unit)) AS staged,
    (SELECT count(*) FROM read_parquet($stage) WHERE NOT list_contains($discarded, _unit))
      - (SELECT count(*) FROM stage_skipped) AS loaded,
    (SELECT count(*) FROM stage_versions older
       JOIN stage_versions latest ON latest.event_id = older.event_id AND latest.version = 1
      WHERE older.version > 1 AND older.content_hash <> latest.content_hash) AS conflicting;
