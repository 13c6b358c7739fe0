-- What the runs could not place: service names no mapping knew (their rows went to
-- quarantine as unmapped_service) and columns outside the contract (dropped), per
-- city and name over every run, the most recently reported first.
WITH names AS (
    SELECT city, run_id, started_at, unnest(map_entries(unmapped_names::MAP(VARCHAR, BIGINT))) AS entry
    FROM run_log
),
reports AS (
    SELECT city, run_id, started_at, 'service_name' AS kind, entry.key AS name, entry.value AS rows
    FROM names
    UNION ALL
    SELECT city, run_id, started_at, 'column' AS kind, unnest(dropped_columns::VARCHAR[]) AS name,
           NULL::BIGINT AS rows
    FROM run_log
)
SELECT city, kind, name, sum(rows)::BIGINT AS rows, count(*) AS runs, max(run_id) AS last_run_id,
       max(started_at) AS last_reported
FROM reports
WHERE $city IS NULL OR city = $city
GROUP BY city, kind, name
ORDER BY last_run_id DESC, city, kind, name;
