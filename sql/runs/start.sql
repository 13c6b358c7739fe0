INSERT INTO run_log (run_id, city, started_at, status, source)
VALUES (nextval('run_ids'), $city, now(), 'running', $source)
RETURNING run_id;
