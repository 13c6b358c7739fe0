-- Online-Vorgänge nach Uhrzeit / Online submissions by hour of day
SELECT city, hour(occurred_at) AS hour, count(*) AS submissions
FROM events
WHERE stage = 'submitted' AND channel IN ('online', 'app')
GROUP BY city, hour
ORDER BY city, hour;
