-- A job run whose process dies (killed, out of memory, machine lost) would stay `running`
-- for ever and keep its slot claimed. Each run now records the lock it holds while it
-- runs; a run still `running` whose lock is free has lost its process, and whoever finds
-- it so marks it `abandoned`. An abandoned run no longer claims its slot, so the job can
-- run again in the same period.
ALTER TABLE job_runs ADD COLUMN lock_name TEXT;
UPDATE job_runs SET lock_name = 'job:' || job;
ALTER TABLE job_runs ALTER COLUMN lock_name SET NOT NULL;

ALTER TABLE job_runs DROP CONSTRAINT job_runs_outcome_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_outcome_check
    CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped', 'abandoned'));

ALTER TABLE job_runs DROP CONSTRAINT job_runs_job_slot_key;
CREATE UNIQUE INDEX job_runs_slot_claim ON job_runs (job, slot) WHERE outcome <> 'abandoned';

-- The runs to check for a lost process: few, found without reading the history.
CREATE INDEX job_runs_running ON job_runs (lock_name) WHERE outcome = 'running';
