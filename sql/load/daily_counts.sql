SELECT
    (SELECT count(*) FROM daily_stage) AS staged,
    (SELECT count(*) FROM daily_latest) AS latest,
    (SELECT count(*) FROM daily_stage s
       JOIN daily_latest l USING (day, service_key, channel)
      WHERE s.content_hash <> l.content_hash) AS conflicting,
    (SELECT count(*) FROM daily_latest) AS loaded;
