-- Submissions in the selection per city, local weekday (ISO, 1 = Monday) and local hour,
-- from the hourly rollup; only cities that deliver events have rows.
SELECT city, weekday, hour, sum(submitted)::BIGINT AS submitted
FROM kpi_hourly($date_from, $date_to, $cities, $services, $channels)
GROUP BY ALL
ORDER BY city, weekday, hour;
