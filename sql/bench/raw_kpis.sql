-- Hand-written aggregations on the raw event table, one per KPI, grouped by city and
-- local month: the yardstick the KPI benchmark compares the registry against.
-- Each statement is preceded by a line "-- kpi: <id>".

-- kpi: transactions
SELECT city, strftime(occurred_at, '%Y-%m') AS month, count(*) FILTER (WHERE stage = 'submitted') AS value
FROM events GROUP BY ALL;

-- kpi: started
SELECT city, strftime(occurred_at, '%Y-%m') AS month, count(*) FILTER (WHERE stage = 'started') AS value
FROM events GROUP BY ALL;

-- kpi: digital_takeup
SELECT city, strftime(occurred_at, '%Y-%m') AS month,
       count(*) FILTER (WHERE stage = 'submitted' AND channel IN ('online', 'app'))
         / count(*) FILTER (WHERE stage = 'submitted') AS value
FROM events GROUP BY ALL;

-- kpi: completion_rate
SELECT city, strftime(occurred_at, '%Y-%m') AS month,
       count(*) FILTER (WHERE stage = 'submitted' AND channel IN ('online', 'app'))
         / count(*) FILTER (WHERE stage = 'started' AND channel IN ('online', 'app')) AS value
FROM events GROUP BY ALL;

-- kpi: satisfaction
SELECT city, strftime(occurred_at, '%Y-%m') AS month,
       count(*) FILTER (WHERE rating >= 4) / count(rating) AS value
FROM events GROUP BY ALL;

-- kpi: eid_share
SELECT city, strftime(occurred_at, '%Y-%m') AS month,
       count(*) FILTER (WHERE eid) / count(eid) AS value
FROM events WHERE stage = 'submitted' AND channel IN ('online', 'app') GROUP BY ALL;

-- kpi: mobile_share
SELECT city, strftime(occurred_at, '%Y-%m') AS month,
       count(*) FILTER (WHERE device IN ('mobile', 'tablet')) / count(device) AS value
FROM events WHERE stage = 'submitted' AND channel IN ('online', 'app') GROUP BY ALL;

-- kpi: median_user_minutes
SELECT city, strftime(occurred_at, '%Y-%m') AS month, median(user_seconds) / 60 AS value
FROM events WHERE stage = 'submitted' AND user_seconds IS NOT NULL GROUP BY ALL;

-- kpi: median_processing_days
WITH cases AS (
    SELECT city, case_id, min(occurred_at) FILTER (WHERE stage = 'submitted') AS submitted_at,
           min(occurred_at) FILTER (WHERE stage = 'completed') AS completed_at
    FROM events WHERE case_id IS NOT NULL GROUP BY ALL
)
SELECT city, strftime(completed_at, '%Y-%m') AS month, median(epoch(completed_at - submitted_at) / 86400) AS value
FROM cases WHERE completed_at > submitted_at GROUP BY ALL;

-- kpi: services_online
SELECT city, strftime(occurred_at, '%Y-%m') AS month, count(DISTINCT service_key) AS value
FROM events WHERE stage = 'submitted' AND channel IN ('online', 'app') GROUP BY ALL;
