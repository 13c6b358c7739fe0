-- Replace the delivered months of daily counts. Parameters: $city, $run_id, $stage,
-- $discarded, $months (the months the run's files deliver).
-- Within a delivery the later row for a (day, service, channel) wins.
CREATE OR REPLACE TEMP TABLE daily_staged AS
SELECT *, hash(day, service_key, channel, started, submitted, completed, rejected, abandoned) AS content_hash
FROM read_parquet($stage)
WHERE NOT list_contains($discarded, _unit);

CREATE OR REPLACE TEMP TABLE daily_latest AS
SELECT * FROM daily_staged
QUALIFY row_number() OVER (PARTITION BY day, service_key, channel ORDER BY _unit DESC, _row DESC) = 1;

DELETE FROM daily_reported
WHERE city = $city AND list_contains($months, strftime(day, '%Y-%m'));

INSERT INTO daily_reported
SELECT $city, day, service_key, channel, started, submitted, completed, rejected, abandoned, $run_id
FROM daily_latest;
