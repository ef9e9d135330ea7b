-- Usage analytics: raw events, daily rollups, scheduled job runs and the audit log of
-- admin actions. Instants are epoch milliseconds (UTC) as in the accounts schema; days are
-- ISO dates (YYYY-MM-DD, UTC) as text, which sort in time order.

-- Raw events, one row per request or feature use, in monthly partitions named
-- analytics_events_yYYYYmMM that the service creates ahead of time and on demand for the
-- month of an event; retention drops whole partitions. There is no default partition: an
-- event of a month without a partition fails its batch rather than landing in a catch-all
-- that would keep that month's partition from ever being created.
CREATE TABLE analytics_events (
    occurred_at BIGINT   NOT NULL,
    account_id  BIGINT,
    session_id  BIGINT,
    department  TEXT,
    action      TEXT     NOT NULL,
    project     TEXT,
    filters     JSONB,
    method      TEXT,
    endpoint    TEXT,
    status      SMALLINT,
    latency_ms  DOUBLE PRECISION,
    client_addr TEXT
) PARTITION BY RANGE (occurred_at);

CREATE INDEX analytics_events_by_time ON analytics_events (occurred_at);
CREATE INDEX analytics_events_by_account ON analytics_events (account_id, occurred_at);

-- One row per day with the platform-wide figures.
CREATE TABLE analytics_daily (
    day                   TEXT PRIMARY KEY,
    events                BIGINT NOT NULL,
    active_users          BIGINT NOT NULL,
    new_users             BIGINT NOT NULL,
    sessions              BIGINT NOT NULL,
    analyses              BIGINT NOT NULL,
    avg_session_seconds   DOUBLE PRECISION NOT NULL,
    most_analysed_project TEXT,
    peak_concurrent_users BIGINT NOT NULL,
    computed_at           BIGINT NOT NULL
);

-- Per day and project, feature (action) and department.
CREATE TABLE analytics_daily_projects (
    day      TEXT   NOT NULL,
    project  TEXT   NOT NULL,
    events   BIGINT NOT NULL,
    analyses BIGINT NOT NULL,
    users    BIGINT NOT NULL,
    PRIMARY KEY (day, project)
);

CREATE TABLE analytics_daily_features (
    day    TEXT   NOT NULL,
    action TEXT   NOT NULL,
    events BIGINT NOT NULL,
    users  BIGINT NOT NULL,
    PRIMARY KEY (day, action)
);

CREATE TABLE analytics_daily_departments (
    day        TEXT   NOT NULL,
    department TEXT   NOT NULL,
    events     BIGINT NOT NULL,
    analyses   BIGINT NOT NULL,
    users      BIGINT NOT NULL,
    PRIMARY KEY (day, department)
);

-- Every run of a scheduled or hand-started job. A scheduled run claims its slot (such as
-- the day of a daily job) by inserting the row, so several instances run it once.
CREATE TABLE job_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         TEXT   NOT NULL,
    slot        TEXT   NOT NULL,
    instance    TEXT   NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    duration_ms BIGINT,
    outcome     TEXT   NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped')),
    message     TEXT,
    UNIQUE (job, slot)
);

CREATE INDEX job_runs_latest ON job_runs (job, started_at DESC);

-- Who changed which account or setting, with the values before and after (JSON text).
CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor_id  BIGINT,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    target    TEXT   NOT NULL,
    old_value TEXT,
    new_value TEXT
);

CREATE INDEX audit_log_by_time ON audit_log (at DESC);
