-- transactions_per_1000: transactions / population * 1000. numerator = transactions,
-- denominator = population: the city's when grouped by city, otherwise the sum over the
-- selected cities ({group_cities}, from the registry), so that a service no one in a city
-- used does not shrink the population it is measured against.
WITH grouped AS (
    SELECT {dims} sum(submitted) AS transactions, {group_cities} AS group_cities
    FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL
    HAVING count(*) > 0
)
SELECT g.* EXCLUDE (transactions, group_cities),
       g.transactions * 1000.0 / p.population AS value,
       g.transactions::DOUBLE AS numerator,
       p.population::DOUBLE AS denominator
FROM grouped g,
     LATERAL (SELECT sum(population) AS population FROM cities WHERE list_contains(g.group_cities, slug)) p
