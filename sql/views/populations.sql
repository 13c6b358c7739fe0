-- Every population figure by city and reference date (for per-1,000 values the pages
-- compute themselves; the KPI registry's transactions_per_1000 reads the same figures).
SELECT city, reference_date, population FROM populations ORDER BY city, reference_date;
