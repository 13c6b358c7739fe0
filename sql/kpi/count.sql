-- transactions, started, completed, rejected, abandoned: the number of steps of one
-- stage ({stage}, from the registry) in the selection.
SELECT {dims} sum({stage}) AS value, NULL::DOUBLE AS numerator, NULL::DOUBLE AS denominator
FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
GROUP BY ALL
HAVING count(*) > 0
