-- The BugDash store on SQLite: projects, issues keyed by JIRA's numeric id, their child
-- rows, and the state and history of syncs. Instants are epoch milliseconds (UTC).

CREATE TABLE projects (
    key          TEXT PRIMARY KEY NOT NULL CHECK (key <> ''),
    name         TEXT,
    -- Increases on every write that changes the project's issues; caches key on it.
    data_version INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER
);

CREATE TABLE issues (
    -- JIRA's id, or a negative id derived from the key for file issues without one.
    id               INTEGER PRIMARY KEY,
    key              TEXT NOT NULL CHECK (key <> ''),
    project          TEXT NOT NULL REFERENCES projects (key),
    issue_type       TEXT NOT NULL,
    status           TEXT NOT NULL,
    status_category  TEXT CHECK (status_category IN ('new', 'indeterminate', 'done')),
    priority         TEXT,
    resolution       TEXT,
    created          INTEGER,
    updated          INTEGER,
    resolved         INTEGER,
    environment      TEXT,
    assignee         TEXT,
    reporter         TEXT,
    summary          TEXT NOT NULL,
    description      TEXT,
    -- Comment bodies, oldest first, as a JSON array of strings.
    comments         TEXT NOT NULL DEFAULT '[]',
    history_source   TEXT NOT NULL CHECK (history_source IN ('none', 'changelog', 'time_in_status')),
    history_complete INTEGER NOT NULL,
    reopen_count     INTEGER,
    removed          INTEGER NOT NULL DEFAULT 0,
    removed_at       INTEGER,
    -- Hash of every field above, so rewriting an unchanged issue can be skipped.
    content_hash     INTEGER NOT NULL,
    stored_at        INTEGER NOT NULL
);

CREATE INDEX issues_project_id ON issues (project, id);
CREATE INDEX issues_project_updated ON issues (project, updated);

CREATE TABLE issue_components (
    issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    ordinal  INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    PRIMARY KEY (issue_id, ordinal)
) WITHOUT ROWID;

CREATE TABLE issue_labels (
    issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    ordinal  INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    PRIMARY KEY (issue_id, ordinal)
) WITHOUT ROWID;

CREATE TABLE issue_versions (
    issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL CHECK (kind IN ('fix', 'affects')),
    ordinal  INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    PRIMARY KEY (issue_id, kind, ordinal)
) WITHOUT ROWID;

CREATE TABLE issue_status_changes (
    issue_id    INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    PRIMARY KEY (issue_id, ordinal)
) WITHOUT ROWID;

CREATE TABLE sync_state (
    project        TEXT PRIMARY KEY NOT NULL REFERENCES projects (key),
    watermark      INTEGER,
    -- JSON text.
    checkpoint     TEXT,
    issues_written INTEGER NOT NULL DEFAULT 0,
    last_census    INTEGER
);

CREATE TABLE sync_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    project        TEXT    NOT NULL REFERENCES projects (key),
    kind           TEXT    NOT NULL,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    outcome        TEXT    NOT NULL,
    api_calls      INTEGER NOT NULL DEFAULT 0,
    issues_written INTEGER NOT NULL DEFAULT 0,
    -- JSON array of strings.
    errors         TEXT    NOT NULL DEFAULT '[]'
);

CREATE INDEX sync_runs_project_id ON sync_runs (project, id DESC);
