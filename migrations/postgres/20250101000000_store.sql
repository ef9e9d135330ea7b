-- The BugDash store on PostgreSQL: projects, issues keyed by JIRA's numeric id, their
-- child rows, and the state and history of syncs. Instants are timestamptz; the core
-- converts them to and from epoch milliseconds exactly.

CREATE TABLE projects (
    key          text PRIMARY KEY CHECK (key <> ''),
    name         text,
    -- Increases on every write that changes the project's issues; caches key on it.
    data_version bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz
);

CREATE TABLE issues (
    -- JIRA's id, or a negative id derived from the key for file issues without one.
    id               bigint PRIMARY KEY,
    key              text NOT NULL CHECK (key <> ''),
    project          text NOT NULL REFERENCES projects (key),
    issue_type       text NOT NULL,
    status           text NOT NULL,
    status_category  text CHECK (status_category IN ('new', 'indeterminate', 'done')),
    priority         text,
    resolution       text,
    created          timestamptz,
    updated          timestamptz,
    resolved         timestamptz,
    environment      text,
    assignee         text,
    reporter         text,
    summary          text NOT NULL,
    description      text,
    -- Comment bodies, oldest first, as a JSON array of strings.
    comments         jsonb NOT NULL DEFAULT '[]',
    history_source   text NOT NULL CHECK (history_source IN ('none', 'changelog', 'time_in_status')),
    history_complete boolean NOT NULL,
    reopen_count     bigint,
    removed          boolean NOT NULL DEFAULT false,
    removed_at       timestamptz,
    -- Hash of every field above, so rewriting an unchanged issue can be skipped.
    content_hash     bigint NOT NULL,
    stored_at        timestamptz NOT NULL
);

CREATE INDEX issues_project_id ON issues (project, id);
CREATE INDEX issues_project_updated ON issues (project, updated);

-- Child rows carry no foreign key to issues: the store writes them only in the transaction
-- that writes their issue and never deletes issues, and the per-row key check would cost
-- a bulk import about a quarter of its speed.
CREATE TABLE issue_components (
    issue_id bigint  NOT NULL,
    ordinal  integer NOT NULL,
    name     text    NOT NULL,
    PRIMARY KEY (issue_id, ordinal)
);

CREATE TABLE issue_labels (
    issue_id bigint  NOT NULL,
    ordinal  integer NOT NULL,
    name     text    NOT NULL,
    PRIMARY KEY (issue_id, ordinal)
);

CREATE TABLE issue_versions (
    issue_id bigint  NOT NULL,
    kind     text    NOT NULL CHECK (kind IN ('fix', 'affects')),
    ordinal  integer NOT NULL,
    name     text    NOT NULL,
    PRIMARY KEY (issue_id, kind, ordinal)
);

CREATE TABLE issue_status_changes (
    issue_id    bigint      NOT NULL,
    ordinal     integer     NOT NULL,
    at          timestamptz NOT NULL,
    from_status text,
    to_status   text        NOT NULL,
    PRIMARY KEY (issue_id, ordinal)
);

CREATE TABLE sync_state (
    project        text PRIMARY KEY REFERENCES projects (key),
    watermark      timestamptz,
    checkpoint     jsonb,
    issues_written bigint NOT NULL DEFAULT 0,
    last_census    timestamptz
);

CREATE TABLE sync_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project        text        NOT NULL REFERENCES projects (key),
    kind           text        NOT NULL,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    outcome        text        NOT NULL,
    api_calls      bigint      NOT NULL DEFAULT 0,
    issues_written bigint      NOT NULL DEFAULT 0,
    errors         jsonb       NOT NULL DEFAULT '[]'
);

CREATE INDEX sync_runs_project_id ON sync_runs (project, id DESC);
