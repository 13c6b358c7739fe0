SELECT city, reason, count(*) AS rows
FROM quarantine_store
WHERE $city IS NULL OR city = $city
GROUP BY city, reason
ORDER BY city, reason;
