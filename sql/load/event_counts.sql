-- Counts for the run record, read after merge_events: staged rows, distinct events,
-- superseded rows whose content differed from the winner, and rows changed or new.
SELECT
    (SELECT count(*) FROM event_stage) AS staged,
    (SELECT count(*) FROM stage_latest) AS latest,
    (SELECT count(*) FROM event_stage s JOIN stage_latest l USING (event_id)
      WHERE s.content_hash <> l.content_hash) AS conflicting,
    (SELECT count(*) FROM stage_changed) AS loaded;
