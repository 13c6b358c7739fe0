-- The columns of the analyst views, in the order given, for the SQL page's schema browser.
-- $views lists the views; the internal tables behind them are not shown.
SELECT table_name AS view, column_name AS "column", data_type AS type
FROM information_schema.columns
WHERE table_catalog = current_database() AND table_schema = 'main' AND list_contains($views, table_name)
ORDER BY list_position($views, table_name), ordinal_position;
