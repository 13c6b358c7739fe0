-- The first and last day each city has data for, so a comparison with a period the
-- city did not yet deliver is never shown as growth.
SELECT city, min(day) AS first_day, max(day) AS last_day FROM daily GROUP BY city ORDER BY city;
