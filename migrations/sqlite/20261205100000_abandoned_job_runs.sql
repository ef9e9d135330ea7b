-- A job run whose process dies (killed, out of memory, machine lost) would stay `running`
-- for ever and keep its slot claimed. Each run now records the lock it holds while it
-- runs; a run still `running` whose lock is free has lost its process, and whoever finds
-- it so marks it `abandoned`. An abandoned run no longer claims its slot, so the job can
-- run again in the same period.
--
-- SQLite cannot change a CHECK or a table-level UNIQUE constraint in place: the table is
-- rebuilt, keeping its ids.
CREATE TABLE job_runs_rebuilt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT   NOT NULL,
    slot        TEXT   NOT NULL,
    instance    TEXT   NOT NULL,
    lock_name   TEXT   NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    duration_ms BIGINT,
    outcome     TEXT   NOT NULL
        CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped', 'abandoned')),
    message     TEXT
);

INSERT INTO job_runs_rebuilt
    (id, job, slot, instance, lock_name, started_at, finished_at, duration_ms, outcome, message)
SELECT id, job, slot, instance, 'job:' || job, started_at, finished_at, duration_ms, outcome,
       message
FROM job_runs;

DROP TABLE job_runs;
ALTER TABLE job_runs_rebuilt RENAME TO job_runs;

CREATE INDEX job_runs_latest ON job_runs (job, started_at DESC);
CREATE UNIQUE INDEX job_runs_slot_claim ON job_runs (job, slot) WHERE outcome <> 'abandoned';

-- The runs to check for a lost process: few, found without reading the history.
CREATE INDEX job_runs_running ON job_runs (lock_name) WHERE outcome = 'running';
