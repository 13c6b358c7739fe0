-- Counts for the run record, read after merge_events: staged rows, rows changed or
-- new, and superseded rows whose content differed from the version that won.
SELECT
    (SELECT count(*) FROM event_stage) AS staged,
    (SELECT count(*) FROM stage_changed) AS loaded,
    (SELECT count(*) FROM stage_versions older
       JOIN stage_versions latest ON latest.event_id = older.event_id AND latest.version = 1
      WHERE older.version > 1 AND older.content_hash <> latest.content_hash) AS conflicting;
