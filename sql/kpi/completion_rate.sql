-- completion_rate: digital submitted / digital started; NULL when nothing digital started.
SELECT {dims}
       coalesce(sum(submitted) FILTER (WHERE channel IN ('online', 'app')), 0)
         / NULLIF(sum(started) FILTER (WHERE channel IN ('online', 'app')), 0) AS value,
       coalesce(sum(submitted) FILTER (WHERE channel IN ('online', 'app')), 0)::DOUBLE AS numerator,
       coalesce(sum(started) FILTER (WHERE channel IN ('online', 'app')), 0)::DOUBLE AS denominator
FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
GROUP BY ALL
HAVING count(*) > 0
