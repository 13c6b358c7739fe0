-- digital_takeup: digital transactions / all transactions (the channel filter is
-- ignored by the registry: the share is over all channels).
SELECT {dims}
       coalesce(sum(submitted) FILTER (WHERE channel IN ('online', 'app')), 0) / NULLIF(sum(submitted), 0) AS value,
       coalesce(sum(submitted) FILTER (WHERE channel IN ('online', 'app')), 0)::DOUBLE AS numerator,
       sum(submitted)::DOUBLE AS denominator
FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
GROUP BY ALL
HAVING count(*) > 0
