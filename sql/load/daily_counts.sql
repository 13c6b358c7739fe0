-- Counts for the run record, read after merge_daily: rows staged, rows loaded, and
-- superseded rows whose content differed from the version that won.
SELECT
    (SELECT count(*) FROM daily_staged) AS staged,
    (SELECT count(*) FROM daily_latest) AS loaded,
    (SELECT count(*) FROM daily_staged s
       JOIN daily_latest l USING (day, service_key, channel)
      WHERE s.content_hash <> l.content_hash) AS conflicting;
