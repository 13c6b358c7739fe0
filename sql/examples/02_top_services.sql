-- Meistgenutzte Leistungen mit Online-Anteil / Top services with their online share
SELECT s.name_de AS service, sum(d.submitted) AS transactions,
       round(sum(d.submitted) FILTER (WHERE d.channel IN ('online', 'app')) / sum(d.submitted), 3) AS online_share
FROM daily d JOIN services s USING (service_key)
GROUP BY s.name_de
ORDER BY transactions DESC
LIMIT 20;
