-- Population figures by reference date. A city's population changes with each new
-- official figure; per-1,000 KPIs use the figure valid for the period (the latest
-- reference date on or before the period's end, else the earliest), so a new figure
-- does not rewrite earlier periods. city_registry keeps the latest figure for display.
-- The figures come from the configuration each time the writer opens (shipped figures
-- plus `cities.<slug>.population`); a warehouse from before starts with its registry's.

CREATE TABLE population_history (
    city           VARCHAR NOT NULL,
    reference_date DATE NOT NULL,
    population     INTEGER NOT NULL,
    PRIMARY KEY (city, reference_date)
);

INSERT INTO population_history
SELECT slug, population_date, population FROM city_registry;

-- Every figure known: the history, and the registry's own where the history lacks it
-- (a city registered before its figures were).
CREATE VIEW populations AS
SELECT city, reference_date, population FROM population_history
UNION ALL
SELECT slug, population_date, population FROM city_registry r
WHERE NOT EXISTS (
    SELECT 1 FROM population_history h WHERE h.city = r.slug AND h.reference_date = r.population_date
);

