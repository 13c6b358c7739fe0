-- Per city: the latest finished run, the latest successful one, how far its data
-- reaches, and what it holds. Wetzlar's data reaches the end of its latest day.
WITH finished AS (
    SELECT city, status, ended_at, error,
           row_number() OVER (PARTITION BY city ORDER BY run_id DESC) AS newest
    FROM run_log WHERE status <> 'running'
),
succeeded AS (
    SELECT city, max(ended_at) AS last_success FROM run_log WHERE status = 'succeeded' GROUP BY city
),
event_data AS (
    SELECT city, max(occurred_at) AS data_until, count(*) AS rows FROM event_store GROUP BY city
),
reported AS (
    SELECT city, (max(day) + INTERVAL 1 DAY)::TIMESTAMPTZ AS data_until, count(*) AS rows
    FROM daily_reported GROUP BY city
),
rejected AS (
    SELECT city, count(*) AS quarantined FROM quarantine_store GROUP BY city
)
SELECT c.slug AS city,
       f.status AS last_status,
       f.ended_at AS last_run,
       f.error AS last_error,
       s.last_success,
       coalesce(e.data_until, r.data_until) AS data_until,
       coalesce(e.rows, 0) + coalesce(r.rows, 0) AS rows,
       coalesce(q.quarantined, 0) AS quarantined
FROM city_registry c
LEFT JOIN finished f ON f.city = c.slug AND f.newest = 1
LEFT JOIN succeeded s ON s.city = c.slug
LEFT JOIN event_data e ON e.city = c.slug
LEFT JOIN reported r ON r.city = c.slug
LEFT JOIN rejected q ON q.city = c.slug
ORDER BY c.slug;
