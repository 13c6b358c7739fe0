-- services_online: catalogue services with at least one digital transaction.
SELECT {dims}
       count(DISTINCT service_key) FILTER (WHERE channel IN ('online', 'app') AND submitted > 0) AS value,
       NULL::DOUBLE AS numerator, NULL::DOUBLE AS denominator
FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
GROUP BY ALL
HAVING count(*) > 0
