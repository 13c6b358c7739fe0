-- Register the configured cities and their population figures (each time the writer
-- opens). Reads the frames configured_cities (slug, name, ags, district) and
-- configured_populations (city, reference_date, population). The configuration is the
-- truth for the cities it names: their figures are replaced by the configured ones and
-- the registry holds the latest. A city no longer configured keeps its row, its figures
-- and its data. Upserts rather than delete-and-insert: DuckDB checks a primary key
-- against rows deleted earlier in the same transaction.
DELETE FROM population_history h
WHERE h.city IN (SELECT slug FROM configured_cities)
  AND NOT EXISTS (
      SELECT 1 FROM configured_populations p WHERE p.city = h.city AND p.reference_date = h.reference_date
  );

INSERT OR REPLACE INTO population_history
SELECT city, reference_date, population FROM configured_populations;

INSERT OR REPLACE INTO city_registry
SELECT c.slug, c.name, c.ags, c.district, p.population, p.reference_date
FROM configured_cities c
JOIN (
    SELECT city, max(reference_date) AS reference_date, arg_max(population, reference_date) AS population
    FROM configured_populations GROUP BY city
) p ON p.city = c.slug;
