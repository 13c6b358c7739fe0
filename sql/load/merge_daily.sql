-- Replace the delivered months of daily counts. Parameters: $city, $run_id.
-- Within a delivery the later row for a (day, service, channel) wins.
CREATE OR REPLACE TEMP TABLE daily_latest AS
SELECT * FROM daily_stage
QUALIFY row_number() OVER (PARTITION BY day, service_key, channel ORDER BY unit_no DESC, row_no DESC) = 1;

DELETE FROM daily_reported
WHERE city = $city AND strftime(day, '%Y-%m') IN (SELECT month FROM month_stage);

INSERT INTO daily_reported
SELECT $city, day, service_key, channel, started, submitted, completed, rejected, abandoned, $run_id
FROM daily_latest;
