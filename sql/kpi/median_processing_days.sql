-- median_processing_days (events only): over cases with a submission and a later
-- completion, the median of (first completion - first submission) in days; a case
-- belongs to the local day of its completion.
WITH groups AS (
    SELECT {dims} count(*) AS n FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL HAVING count(*) > 0
),
medians AS (
    SELECT {dims} quantile_cont(days, 0.5) AS value
    FROM kpi_cases($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL
)
SELECT g.* EXCLUDE (n), m.value, NULL::DOUBLE AS numerator, NULL::DOUBLE AS denominator
FROM groups g LEFT JOIN medians m {join}
