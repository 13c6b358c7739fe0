-- Merge the events staged by one run into the store. Parameters: $city, $run_id,
-- $stage (the run's spill files), $discarded (units found unreadable after staging).
-- The latest delivered version of an event wins: within the run by delivery order
-- (unit, row), against the store by replacing changed rows. The staged rows are read
-- from Parquet spill files in single statements, so memory stays bounded however large
-- the run (DuckDB keeps many small appends of one transaction in memory).

CREATE OR REPLACE TEMP TABLE stage_versions AS
WITH staged AS (
    SELECT _unit, _row, event_id,
           hash(event_id, occurred_at, service_key, channel, stage, case_id,
                user_seconds, eid, epayment, device, rating) AS content_hash
    FROM read_parquet($stage)
    WHERE NOT list_contains($discarded, _unit)
)
-- Only event ids delivered more than once in this run need ordering (usually few).
SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY _unit DESC, _row DESC) AS version
FROM staged
WHERE event_id IN (SELECT event_id FROM staged GROUP BY event_id HAVING count(*) > 1);

-- Staged rows that do not reach the store: superseded within the run, or identical to
-- the stored version.
CREATE OR REPLACE TEMP TABLE stage_skipped AS
SELECT _unit, _row FROM stage_versions WHERE version > 1
UNION
SELECT s._unit, s._row
FROM read_parquet($stage) s
JOIN event_store e ON e.city = $city AND e.event_id = s.event_id
WHERE NOT list_contains($discarded, s._unit)
  AND e.content_hash = hash(s.event_id, s.occurred_at, s.service_key, s.channel, s.stage, s.case_id,
                            s.user_seconds, s.eid, s.epayment, s.device, s.rating);

-- The rows that reach the store (a macro, since a view cannot take the file list).
CREATE OR REPLACE TEMP MACRO stage_changed(stage, discarded) AS TABLE
SELECT s.*, hash(s.event_id, s.occurred_at, s.service_key, s.channel, s.stage, s.case_id,
                 s.user_seconds, s.eid, s.epayment, s.device, s.rating) AS content_hash
FROM read_parquet(stage) s
WHERE NOT list_contains(discarded, s._unit)
  AND NOT EXISTS (SELECT 1 FROM stage_skipped k WHERE k._unit = s._unit AND k._row = s._row);

CREATE OR REPLACE TEMP TABLE touched_days AS
SELECT DISTINCT local_date FROM stage_changed($stage, $discarded)
UNION
SELECT e.local_date FROM event_store e JOIN stage_changed($stage, $discarded) c ON e.event_id = c.event_id
WHERE e.city = $city;

DELETE FROM event_store e USING stage_changed($stage, $discarded) c
WHERE e.city = $city AND e.event_id = c.event_id;

-- Sorted by day, so that date-range queries skip whole row groups.
INSERT INTO event_store
SELECT $city, event_id, occurred_at, local_date, service_key, channel, stage, case_id,
       user_seconds, eid, epayment, device, rating, content_hash, $run_id
FROM stage_changed($stage, $discarded)
ORDER BY local_date;

DELETE FROM daily_from_events
WHERE city = $city AND day IN (SELECT local_date FROM touched_days);

INSERT INTO daily_from_events
SELECT city, local_date, service_key, channel,
       count(*) FILTER (WHERE stage = 'started'),
       count(*) FILTER (WHERE stage = 'submitted'),
       count(*) FILTER (WHERE stage = 'completed'),
       count(*) FILTER (WHERE stage = 'rejected'),
       count(*) FILTER (WHERE stage = 'abandoned')
FROM event_store
WHERE city = $city AND local_date IN (SELECT local_date FROM touched_days)
GROUP BY ALL;
