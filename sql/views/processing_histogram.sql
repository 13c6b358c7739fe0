-- The administration's processing times in the selection, counted per city in day
-- bands (the band's lower bound in days, so the bands sort as they read).
SELECT city,
       CASE WHEN days < 1 THEN 0 WHEN days < 2 THEN 1 WHEN days < 3 THEN 2 WHEN days < 6 THEN 3
            WHEN days < 11 THEN 6 WHEN days < 21 THEN 11 WHEN days < 31 THEN 21 ELSE 31 END AS band,
       count(*) AS cases
FROM kpi_cases($date_from, $date_to, $cities, $services, $channels)
GROUP BY ALL
ORDER BY city, band;
