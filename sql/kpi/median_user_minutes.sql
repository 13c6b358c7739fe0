-- median_user_minutes (events only): median of user_seconds / 60 over transactions that
-- report it (continuous median); NULL where a group has no such transaction.
WITH groups AS (
    SELECT {dims} count(*) AS n FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL HAVING count(*) > 0
),
medians AS (
    SELECT {dims} quantile_cont(user_seconds, 0.5) / 60.0 AS value
    FROM kpi_durations($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL
)
SELECT g.* EXCLUDE (n), m.value, NULL::DOUBLE AS numerator, NULL::DOUBLE AS denominator
FROM groups g LEFT JOIN medians m {join}
