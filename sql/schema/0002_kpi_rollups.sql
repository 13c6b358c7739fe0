-- Rollups that the KPI layer reads instead of the raw events, maintained by every
-- pipeline run for the days and cases it touches, and the macros that select from
-- them. A warehouse created before this migration gets them filled from its events.

-- Additive event facts per day, service and channel (ratings, eID, e-payment, devices).
CREATE TABLE daily_event_facts (
    city           VARCHAR NOT NULL,
    day            DATE NOT NULL,
    service_key    VARCHAR NOT NULL,
    channel        VARCHAR NOT NULL,
    ratings        BIGINT NOT NULL,   -- ratings given, any stage
    ratings_good   BIGINT NOT NULL,   -- of those, 4 or 5
    rating_sum     BIGINT NOT NULL,
    eid_reported   BIGINT NOT NULL,   -- digital transactions with eid true or false
    eid_used       BIGINT NOT NULL,
    epay_reported  BIGINT NOT NULL,
    epay_used      BIGINT NOT NULL,
    device_reported BIGINT NOT NULL,  -- digital transactions with a device
    device_mobile  BIGINT NOT NULL    -- of those, mobile or tablet
);

-- The citizen's time of each transaction that reports it (for exact medians).
CREATE TABLE transaction_durations (
    city         VARCHAR NOT NULL,
    day          DATE NOT NULL,
    service_key  VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    user_seconds INTEGER NOT NULL
);

-- Cases with a submission and a later completion: the administration's processing
-- time, on the local day of the completion.
CREATE TABLE case_durations (
    city        VARCHAR NOT NULL,
    case_id     VARCHAR NOT NULL,
    day         DATE NOT NULL,
    service_key VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,
    days        DOUBLE NOT NULL
);

INSERT INTO daily_event_facts
SELECT city, local_date, service_key, channel,
       count(rating),
       count(*) FILTER (WHERE rating >= 4),
       coalesce(sum(rating), 0),
       count(eid) FILTER (WHERE stage = 'submitted' AND channel IN ('online', 'app')),
       count(*) FILTER (WHERE eid AND stage = 'submitted' AND channel IN ('online', 'app')),
       count(epayment) FILTER (WHERE stage = 'submitted' AND channel IN ('online', 'app')),
       count(*) FILTER (WHERE epayment AND stage = 'submitted' AND channel IN ('online', 'app')),
       count(device) FILTER (WHERE stage = 'submitted' AND channel IN ('online', 'app')),
       count(*) FILTER (WHERE device IN ('mobile', 'tablet') AND stage = 'submitted' AND channel IN ('online', 'app'))
FROM event_store
GROUP BY ALL;

INSERT INTO transaction_durations
SELECT city, local_date, service_key, channel, user_seconds
FROM event_store
WHERE stage = 'submitted' AND user_seconds IS NOT NULL
ORDER BY city, local_date;

INSERT INTO case_durations
WITH submitted AS (
    SELECT city, case_id, min(occurred_at) AS submitted_at,
           arg_min(service_key, occurred_at) AS service_key, arg_min(channel, occurred_at) AS channel
    FROM event_store
    WHERE stage = 'submitted' AND case_id IS NOT NULL
    GROUP BY city, case_id
)
SELECT s.city, s.case_id, min(e.occurred_at)::DATE, s.service_key, s.channel,
       epoch(min(e.occurred_at) - s.submitted_at) / 86400.0
FROM submitted s
JOIN event_store e
  ON e.city = s.city AND e.case_id = s.case_id AND e.stage = 'completed' AND e.occurred_at > s.submitted_at
GROUP BY s.city, s.case_id, s.service_key, s.channel, s.submitted_at;

-- The selection every KPI starts from: local days [date_from, date_to], and the
-- cities, services and channels asked for (NULL: all).
CREATE MACRO kpi_daily(date_from, date_to, cities, services, channels) AS TABLE
SELECT city, day, service_key, channel, started, submitted, completed, rejected, abandoned
FROM daily
WHERE day BETWEEN date_from AND date_to
  AND (cities IS NULL OR list_contains(cities, city))
  AND (services IS NULL OR list_contains(services, service_key))
  AND (channels IS NULL OR list_contains(channels, channel));

CREATE MACRO kpi_facts(date_from, date_to, cities, services, channels) AS TABLE
SELECT * FROM daily_event_facts
WHERE day BETWEEN date_from AND date_to
  AND (cities IS NULL OR list_contains(cities, city))
  AND (services IS NULL OR list_contains(services, service_key))
  AND (channels IS NULL OR list_contains(channels, channel));

CREATE MACRO kpi_durations(date_from, date_to, cities, services, channels) AS TABLE
SELECT * FROM transaction_durations
WHERE day BETWEEN date_from AND date_to
  AND (cities IS NULL OR list_contains(cities, city))
  AND (services IS NULL OR list_contains(services, service_key))
  AND (channels IS NULL OR list_contains(channels, channel));

CREATE MACRO kpi_cases(date_from, date_to, cities, services, channels) AS TABLE
SELECT * FROM case_durations
WHERE day BETWEEN date_from AND date_to
  AND (cities IS NULL OR list_contains(cities, city))
  AND (services IS NULL OR list_contains(services, service_key))
  AND (channels IS NULL OR list_contains(channels, channel));
