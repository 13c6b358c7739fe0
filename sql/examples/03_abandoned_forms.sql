-- Wo werden Online-Formulare abgebrochen? / Where are online forms abandoned?
SELECT city, service_key, sum(started) AS started, sum(abandoned) AS abandoned,
       round(sum(abandoned) / nullif(sum(started), 0), 3) AS abandon_rate
FROM daily
WHERE channel IN ('online', 'app')
GROUP BY city, service_key
HAVING sum(started) >= 50
ORDER BY abandon_rate DESC
LIMIT 25;
