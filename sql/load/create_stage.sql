-- Staging for one run's batch, created fresh at the start of every run. Temporary
-- tables live in memory up to the writer's memory_limit and spill to the temp
-- directory beyond it, so a multi-GB delivery stays within bounded memory; they are
-- about three times faster to fill than a table in the database file.
CREATE OR REPLACE TEMP TABLE event_stage (
    unit_no      INTEGER NOT NULL,
    row_no       BIGINT NOT NULL,
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
    content_hash UBIGINT NOT NULL
);

CREATE OR REPLACE TEMP TABLE daily_stage (
    unit_no      INTEGER NOT NULL,
    row_no       BIGINT NOT NULL,
    day          DATE NOT NULL,
    service_key  VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    started      BIGINT NOT NULL,
    submitted    BIGINT NOT NULL,
    completed    BIGINT NOT NULL,
    rejected     BIGINT NOT NULL,
    abandoned    BIGINT NOT NULL,
    content_hash UBIGINT NOT NULL
);

CREATE OR REPLACE TEMP TABLE month_stage (
    month VARCHAR NOT NULL
);
