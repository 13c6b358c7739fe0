-- cost_per_transaction: sum over channels of transactions x the channel's unit cost
-- (per city; $costs from the configuration) / transactions. numerator = total cost.
WITH costs AS (SELECT unnest($costs, recursive := true))
SELECT {dims}
       sum(submitted * eur) / NULLIF(sum(submitted), 0) AS value,
       sum(submitted * eur)::DOUBLE AS numerator,
       sum(submitted)::DOUBLE AS denominator
FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
JOIN costs USING (city, channel)
GROUP BY ALL
HAVING count(*) > 0
