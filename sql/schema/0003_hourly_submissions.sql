-- Submissions per local hour of the day, for the weekday x hour heatmap on the channels
-- page: reading the raw events for it would scan every event per request. Maintained by
-- every pipeline run for the days it touches (load/merge_events.sql), like the daily
-- rollups; a warehouse created before this migration gets it filled from its events.
-- Cities that deliver daily counts only (Wetzlar) have no hours and no rows here.

CREATE TABLE hourly_submissions (
    city        VARCHAR NOT NULL,
    day         DATE NOT NULL,       -- local calendar day (the event's local_date)
    weekday     TINYINT NOT NULL,    -- ISO: 1 Monday .. 7 Sunday, of the local day
    hour        TINYINT NOT NULL,    -- local hour 0..23 (Europe/Berlin, whatever the session's TimeZone)
    service_key VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,
    submitted   BIGINT NOT NULL
);

-- timezone() turns the stored instant into Berlin wall-clock time: on the spring-forward
-- day hour 2 does not exist, on the fall-back day hour 2 holds both of its hours.
INSERT INTO hourly_submissions
SELECT city, local_date, isodow(local_date), hour(timezone('Europe/Berlin', occurred_at)), service_key, channel,
       count(*)
FROM event_store
WHERE stage = 'submitted'
GROUP BY ALL
ORDER BY city, local_date;

CREATE MACRO kpi_hourly(date_from, date_to, cities, services, channels) AS TABLE
SELECT * FROM hourly_submissions
WHERE day BETWEEN date_from AND date_to
  AND (cities IS NULL OR list_contains(cities, city))
  AND (services IS NULL OR list_contains(services, service_key))
  AND (channels IS NULL OR list_contains(channels, channel));
