-- savings_potential: per city and service, if the city reached the best digital take-up
-- among all cities for that service in the period, the yearly cost it would save:
-- (best - own) x own transactions x (offline unit cost - digital unit cost), scaled to
-- 365 days; 0 for the best. Unit costs are the city's, each side weighted by the city's
-- own transactions in those channels (the plain mean where it has none). The best is
-- taken over all cities, whatever the city filter.
WITH costs AS (SELECT unnest($costs, recursive := true)),
per_channel AS (
    SELECT city, service_key, channel, sum(submitted) AS transactions
    FROM kpi_daily($date_from, $date_to, NULL, $services, NULL)
    GROUP BY ALL
),
per_service AS (
    SELECT p.city, p.service_key,
           sum(p.transactions) AS transactions,
           sum(p.transactions) FILTER (WHERE p.channel IN ('online', 'app')) AS digital,
           coalesce(
               sum(p.transactions * c.eur) FILTER (WHERE p.channel NOT IN ('online', 'app'))
                 / NULLIF(sum(p.transactions) FILTER (WHERE p.channel NOT IN ('online', 'app')), 0),
               (SELECT avg(eur) FROM costs k WHERE k.city = p.city AND k.channel NOT IN ('online', 'app'))
           ) AS offline_cost,
           coalesce(
               sum(p.transactions * c.eur) FILTER (WHERE p.channel IN ('online', 'app'))
                 / NULLIF(sum(p.transactions) FILTER (WHERE p.channel IN ('online', 'app')), 0),
               (SELECT avg(eur) FROM costs k WHERE k.city = p.city AND k.channel IN ('online', 'app'))
           ) AS digital_cost
    FROM per_channel p JOIN costs c ON c.city = p.city AND c.channel = p.channel
    GROUP BY p.city, p.service_key
),
takeup AS (
    SELECT *, coalesce(digital, 0) / NULLIF(transactions, 0) AS own FROM per_service
),
best AS (
    SELECT service_key, max(own) AS best FROM takeup GROUP BY service_key
)
SELECT {dims}
       sum(CASE WHEN b.best > t.own
                THEN (b.best - t.own) * t.transactions * (t.offline_cost - t.digital_cost)
                     * 365.0 / $period_days
                ELSE 0 END) AS value,
       NULL::DOUBLE AS numerator, NULL::DOUBLE AS denominator
FROM takeup t JOIN best b USING (service_key)
WHERE t.own IS NOT NULL AND ($cities IS NULL OR list_contains($cities, city))
GROUP BY ALL
