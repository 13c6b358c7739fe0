-- Merge the staged events of one run into the store. Parameters: $city, $run_id.
-- The latest delivered version of an event wins: within the run by delivery order
-- (unit, row), against the store by replacing changed rows.

-- Only event ids delivered more than once in this run need ordering (usually few).
CREATE OR REPLACE TEMP TABLE stage_versions AS
SELECT unit_no, row_no, event_id, content_hash,
       row_number() OVER (PARTITION BY event_id ORDER BY unit_no DESC, row_no DESC) AS version
FROM event_stage
WHERE event_id IN (SELECT event_id FROM event_stage GROUP BY event_id HAVING count(*) > 1);

-- The latest version of each event, unless the store already holds it unchanged.
CREATE OR REPLACE TEMP TABLE stage_changed AS
SELECT s.* FROM event_stage s
WHERE NOT EXISTS (
    SELECT 1 FROM stage_versions v
    WHERE v.version > 1 AND v.unit_no = s.unit_no AND v.row_no = s.row_no
)
AND NOT EXISTS (
    SELECT 1 FROM event_store e
    WHERE e.city = $city AND e.event_id = s.event_id AND e.content_hash = s.content_hash
);

CREATE OR REPLACE TEMP TABLE touched_days AS
SELECT DISTINCT local_date FROM stage_changed
UNION
SELECT e.local_date FROM event_store e JOIN stage_changed c ON e.event_id = c.event_id
WHERE e.city = $city;

DELETE FROM event_store e USING stage_changed c
WHERE e.city = $city AND e.event_id = c.event_id;

-- Sorted by day, so that date-range queries skip whole row groups.
INSERT INTO event_store
SELECT $city, event_id, occurred_at, local_date, service_key, channel, stage, case_id,
       user_seconds, eid, epayment, device, rating, content_hash, $run_id
FROM stage_changed
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
