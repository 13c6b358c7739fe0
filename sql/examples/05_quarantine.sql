-- Abgewiesene Zeilen je Stadt und Grund / Rejected rows by city and reason
SELECT city, reason, count(*) AS rows FROM quarantine GROUP BY city, reason ORDER BY city, rows DESC;
