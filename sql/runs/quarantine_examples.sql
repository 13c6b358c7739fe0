-- Per reason, the first rejected row (file, record, detail): the examples a dry run of
-- a city's delivery shows. Parameter: $city.
SELECT reason,
       arg_min(source, (source, row_number)) AS source,
       arg_min(row_number, (source, row_number)) AS row_number,
       arg_min(detail, (source, row_number)) AS detail
FROM quarantine
WHERE city = $city
GROUP BY reason
ORDER BY reason;
