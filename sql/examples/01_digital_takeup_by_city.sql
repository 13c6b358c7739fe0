-- Digitalquote je Stadt im letzten vollen Jahr / Digital take-up per city, last full year
SELECT city,
       sum(submitted) FILTER (WHERE channel IN ('online', 'app')) AS digital,
       sum(submitted) AS transactions,
       round(digital / transactions, 3) AS digital_takeup
FROM daily
WHERE day >= date_trunc('year', current_date) - INTERVAL 1 YEAR AND day < date_trunc('year', current_date)
GROUP BY city
ORDER BY digital_takeup DESC;
