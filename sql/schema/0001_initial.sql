-- The warehouse's first schema: stored tables (internal names) and the analyst views
-- (events, daily, cities, services, pipeline_runs, quarantine), which are the stable
-- interface documented in the README.

CREATE TABLE city_registry (
    slug            VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    ags             VARCHAR NOT NULL,
    district        VARCHAR,
    population      INTEGER NOT NULL,
    population_date DATE NOT NULL
);

CREATE TABLE service_catalogue (
    service_key VARCHAR PRIMARY KEY,
    name_de     VARCHAR NOT NULL,
    name_en     VARCHAR NOT NULL,
    ozg_theme   VARCHAR,
    ozg_id      VARCHAR
);

-- One row per canonical event; (city, event_id) is unique by construction of the load
-- (delete-then-insert in one transaction) rather than by an index, which would cost
-- memory and load time at tens of millions of rows.
CREATE TABLE event_store (
    city         VARCHAR NOT NULL,
    event_id     VARCHAR NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    local_date   DATE NOT NULL,
    service_key  VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL,
    case_id      VARCHAR,
    user_seconds INTEGER,
    eid          BOOLEAN,
    epayment     BOOLEAN,
    device       VARCHAR,
    rating       TINYINT,
    content_hash UBIGINT NOT NULL,
    run_id       BIGINT NOT NULL
);

-- Event cities rolled up to the daily grain, refreshed for the days each run touches.
CREATE TABLE daily_from_events (
    city        VARCHAR NOT NULL,
    day         DATE NOT NULL,
    service_key VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,
    started     BIGINT NOT NULL,
    submitted   BIGINT NOT NULL,
    completed   BIGINT NOT NULL,
    rejected    BIGINT NOT NULL,
    abandoned   BIGINT NOT NULL
);

-- Daily counts delivered as such (Wetzlar); replaced per (city, month).
CREATE TABLE daily_reported (
    city        VARCHAR NOT NULL,
    day         DATE NOT NULL,
    service_key VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,
    started     BIGINT NOT NULL,
    submitted   BIGINT NOT NULL,
    completed   BIGINT NOT NULL,
    rejected    BIGINT NOT NULL,
    abandoned   BIGINT NOT NULL,
    run_id      BIGINT NOT NULL
);

CREATE SEQUENCE run_ids START 1;

CREATE TABLE run_log (
    run_id             BIGINT PRIMARY KEY,
    city               VARCHAR NOT NULL,
    started_at         TIMESTAMPTZ NOT NULL,
    ended_at           TIMESTAMPTZ,
    status             VARCHAR NOT NULL,      -- running, succeeded, failed, aborted
    source             VARCHAR,
    rows_read          BIGINT NOT NULL DEFAULT 0,
    rows_loaded        BIGINT NOT NULL DEFAULT 0,
    rows_duplicate     BIGINT NOT NULL DEFAULT 0,
    rows_conflicting   BIGINT NOT NULL DEFAULT 0,
    rows_quarantined   BIGINT NOT NULL DEFAULT 0,
    quarantined_by_reason JSON,
    units_seen         INTEGER NOT NULL DEFAULT 0,
    units_skipped      INTEGER NOT NULL DEFAULT 0,
    units              JSON,
    unmapped_names     JSON,
    dropped_columns    JSON,
    error              VARCHAR
);

-- Rejected rows, masked. One row per distinct rejected content (row_hash) per city, so a
-- bad row delivered again is not counted twice; kept unique by the load (an index would
-- have to fit in memory for a delivery of millions of bad rows).
CREATE TABLE quarantine_store (
    city       VARCHAR NOT NULL,
    row_hash   VARCHAR NOT NULL,
    reason     VARCHAR NOT NULL,
    detail     VARCHAR,
    source     VARCHAR NOT NULL,
    row_number BIGINT,
    raw        VARCHAR,
    first_run  BIGINT NOT NULL,
    last_run   BIGINT NOT NULL
);

-- Files (or exports) already loaded, by content fingerprint, so unchanged ones are skipped.
CREATE TABLE processed_unit (
    city        VARCHAR NOT NULL,
    unit        VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    run_id      BIGINT NOT NULL,
    PRIMARY KEY (city, unit)
);

-- Small per-source state: ETags, watermarks.
CREATE TABLE source_state (
    city  VARCHAR NOT NULL,
    key   VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    PRIMARY KEY (city, key)
);

CREATE VIEW events AS
SELECT city, event_id, occurred_at, service_key, channel, stage, case_id,
       user_seconds, eid, epayment, device, rating
FROM event_store;

CREATE VIEW daily AS
SELECT city, day, service_key, channel, started, submitted, completed, rejected, abandoned
FROM daily_from_events
UNION ALL
SELECT city, day, service_key, channel, started, submitted, completed, rejected, abandoned
FROM daily_reported;

CREATE VIEW cities AS
SELECT slug, name, ags, district, population, population_date FROM city_registry;

CREATE VIEW services AS
SELECT service_key, name_de, name_en, ozg_theme, ozg_id FROM service_catalogue;

CREATE VIEW pipeline_runs AS
SELECT run_id, city, started_at, ended_at, status, source, rows_read, rows_loaded,
       rows_duplicate, rows_conflicting, rows_quarantined, quarantined_by_reason,
       units_seen, units_skipped, unmapped_names, dropped_columns, error
FROM run_log;

CREATE VIEW quarantine AS
SELECT city, reason, detail, source, row_number, raw, first_run, last_run
FROM quarantine_store;

