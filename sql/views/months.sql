-- Every month (YYYY-MM) from the first to the last day with data.
SELECT strftime(month, '%Y-%m') AS month
FROM (SELECT min(day) AS first_day, max(day) AS last_day FROM daily),
     generate_series(date_trunc('month', first_day), date_trunc('month', last_day), INTERVAL 1 MONTH) AS g(month)
ORDER BY month;
