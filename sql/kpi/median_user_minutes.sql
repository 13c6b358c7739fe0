-- median_user_minutes (events only): median of user_seconds / 60 over transactions that
-- report it (continuous median: the mean of the two middle values for an even count);
-- NULL where a group has no such transaction. Computed from a histogram of the seconds
-- per group, which is several times faster than sorting every transaction.
WITH groups AS (
    SELECT {dims} count(*) AS n FROM kpi_daily($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL HAVING count(*) > 0
),
histogram AS (
    SELECT {dims} user_seconds, count(*) AS transactions
    FROM kpi_durations($date_from, $date_to, $cities, $services, $channels)
    GROUP BY ALL
),
running AS (
    SELECT *,
           sum(transactions) OVER ({partition} ORDER BY user_seconds) AS reached,
           sum(transactions) OVER ({partition}) AS total
    FROM histogram
),
medians AS (
    SELECT running.* EXCLUDE (user_seconds, transactions, reached, total),
           (min(user_seconds) FILTER (WHERE reached >= (total + 1) // 2)
            + min(user_seconds) FILTER (WHERE reached >= total // 2 + 1)) / 2 / 60.0 AS value
    FROM running
    GROUP BY ALL
)
SELECT g.* EXCLUDE (n), m.value, NULL::DOUBLE AS numerator, NULL::DOUBLE AS denominator
FROM groups g LEFT JOIN medians m {join}
