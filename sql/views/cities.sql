-- The cities of the cooperation for the pages: name, population, and whether the city
-- delivers events (daily-count cities have no event-only KPIs, channels by hour, ...).
SELECT c.slug, c.name, c.population,
       c.slug IN (SELECT DISTINCT city FROM daily_from_events) AS has_events
FROM cities c
ORDER BY c.name;
