-- transactions_per_1000: transactions / population * 1000. numerator = transactions,
-- denominator = population: the city's when grouped by city, otherwise the sum over the
-- selected cities ({group_cities}, from the registry), so that a service no one in a city
-- used does not shrink the population it is measured against. Each city counts with the
-- population valid at the end of the group's period ({period_end}: the day, the month's
-- last day within the selection, or the selection's last day): the latest figure on or
-- before it, else the earliest.
WITH grouped AS (
    SELECT {dims} sum(submitted) AS transactions, {group_cities} AS group_cities
    FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL
    HAVING count(*) > 0
),
periods AS (
    SELECT g.*, {period_end} AS period_end FROM grouped g
),
valid AS (
    SELECT p.period_end, f.city,
           coalesce(max_by(f.population, f.reference_date) FILTER (WHERE f.reference_date <= p.period_end),
                    min_by(f.population, f.reference_date)) AS population
    FROM (SELECT DISTINCT period_end FROM periods) p, populations f
    GROUP BY ALL
)
SELECT g.* EXCLUDE (transactions, group_cities, period_end),
       g.transactions * 1000.0 / p.population AS value,
       g.transactions::DOUBLE AS numerator,
       p.population::DOUBLE AS denominator
FROM periods g,
     LATERAL (
         SELECT sum(v.population) AS population FROM valid v
         WHERE v.period_end = g.period_end AND list_contains(g.group_cities, v.city)
     ) p
