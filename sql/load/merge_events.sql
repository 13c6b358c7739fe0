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

-- Cases whose events change (new or old version), for the processing times below.
CREATE OR REPLACE TEMP TABLE touched_cases AS
SELECT DISTINCT case_id FROM stage_changed($stage, $discarded) WHERE case_id IS NOT NULL
UNION
SELECT e.case_id FROM event_store e JOIN stage_changed($stage, $discarded) c ON e.event_id = c.event_id
WHERE e.city = $city AND e.case_id IS NOT NULL;

DELETE FROM event_store e USING stage_changed($stage, $discarded) c
WHERE e.city = $city AND e.event_id = c.event_id;

-- In delivery order, which for every feed is close to day order: row groups stay
-- narrow in time without the cost of a sort (a third of the whole merge at 10M rows).
INSERT INTO event_store
SELECT $city, event_id, occurred_at, local_date, service_key, channel, stage, case_id,
       user_seconds, eid, epayment, device, rating, content_hash, $run_id
FROM stage_changed($stage, $discarded);

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

DELETE FROM daily_event_facts
WHERE city = $city AND day IN (SELECT local_date FROM touched_days);

INSERT INTO daily_event_facts
SELECT city, local_date, service_key, channel,
       count(rating),
       count(*) FILTER (WHERE rating >= 4),
       coalesce(sum(rating), 0),
       count(eid) FILTER (WHERE stage = 'submitted' AND channel IN ('online', 'app')),
       count(*) FILTER (WHERE eid AND stage = 'submitted' AND channel IN ('online', 'app')),
       count(epayment) FILTER (WHERE stage = 'submitted' AND channel IN ('online', 'app')),
       count(*) FILTER (WHERE epayment AND stage = 'submitted' AND channel IN ('online', 'app')),
       count(device) FILTER (WHERE stage = 'submitted' AND channel IN ('online', 'app')),
       count(*) FILTER (WHERE device IN ('mobile', 'tablet') AND stage = 'submitted' AND channel IN ('online', 'app'))
FROM event_store
WHERE city = $city AND local_date IN (SELECT local_date FROM touched_days)
GROUP BY ALL;

DELETE FROM hourly_submissions
WHERE city = $city AND day IN (SELECT local_date FROM touched_days);

INSERT INTO hourly_submissions
SELECT city, local_date, isodow(local_date), hour(timezone('Europe/Berlin', occurred_at)), service_key, channel,
       count(*)
FROM event_store
WHERE city = $city AND local_date IN (SELECT local_date FROM touched_days) AND stage = 'submitted'
GROUP BY ALL;

DELETE FROM transaction_durations
WHERE city = $city AND day IN (SELECT local_date FROM touched_days);

INSERT INTO transaction_durations
SELECT city, local_date, service_key, channel, user_seconds
FROM event_store
WHERE city = $city AND local_date IN (SELECT local_date FROM touched_days)
  AND stage = 'submitted' AND user_seconds IS NOT NULL
ORDER BY local_date;

DELETE FROM case_durations
WHERE city = $city AND case_id IN (SELECT case_id FROM touched_cases);

-- One pass over the touched cases' events: the first submission, the service and channel
-- it was made in, and the first completion after it.
INSERT INTO case_durations
WITH steps AS (
    SELECT case_id,
           min(occurred_at) FILTER (WHERE stage = 'submitted') AS submitted_at,
           arg_min(service_key, occurred_at) FILTER (WHERE stage = 'submitted') AS service_key,
           arg_min(channel, occurred_at) FILTER (WHERE stage = 'submitted') AS channel,
           list(occurred_at) FILTER (WHERE stage = 'completed') AS completions
    FROM event_store
    WHERE city = $city AND stage IN ('submitted', 'completed') AND case_id IN (SELECT case_id FROM touched_cases)
    GROUP BY case_id
),
durations AS (
    SELECT *, list_min(list_filter(completions, lambda done: done > submitted_at)) AS completed_at FROM steps
)
SELECT $city, case_id, completed_at::DATE, service_key, channel,
       epoch(completed_at - submitted_at) / 86400.0
FROM durations
WHERE completed_at IS NOT NULL;
