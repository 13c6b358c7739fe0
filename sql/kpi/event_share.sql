-- satisfaction, mean_rating, eid_share, epayment_share, mobile_share (events only):
-- {numerator} / {denominator} over the event facts, for every group that has data;
-- NULL ("not reported") where a group has no event data.
WITH groups AS (
    SELECT {dims} count(*) AS n FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL HAVING count(*) > 0
),
facts AS (
    SELECT {dims} sum({numerator})::DOUBLE AS numerator, sum({denominator})::DOUBLE AS denominator
    FROM kpi_facts($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL
)
SELECT g.* EXCLUDE (n), f.numerator / NULLIF(f.denominator, 0) AS value, f.numerator, f.denominator
FROM groups g LEFT JOIN facts f {join}
