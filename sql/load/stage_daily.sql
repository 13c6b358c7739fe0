-- Append one validated batch of daily counts (registered as `batch`) to staging.
INSERT INTO daily_stage
SELECT _unit, _row, day, service_key, channel, started, submitted, completed, rejected,
       abandoned, hash(day, service_key, channel, started, submitted, completed, rejected, abandoned)
FROM batch;
