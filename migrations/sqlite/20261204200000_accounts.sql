-- Accounts, their sessions, and secrets the service generates for itself (such as the
-- JWT key when JWT_SECRET_KEY is unset). Instants are epoch milliseconds (UTC).

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL CHECK (email <> ''),
    -- The email lower-cased by the service: unique, so emails are unique whatever their case.
    email_key     TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL CHECK (name <> ''),
    department    TEXT,
    role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    active        INTEGER NOT NULL DEFAULT 1,
    -- PHC string of an Argon2id hash.
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    -- Public id; AUTOINCREMENT never reuses one, so a token naming an old session can
    -- never name a new one.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- SHA-256 (hex) of the token only the client holds.
    token_hash   TEXT    NOT NULL UNIQUE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    client_addr  TEXT,
    user_agent   TEXT,
    revoked_at   INTEGER
);

CREATE INDEX sessions_live_by_account ON sessions (account_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_live_by_expiry ON sessions (expires_at) WHERE revoked_at IS NULL;

CREATE TABLE generated_secrets (
    name       TEXT    PRIMARY KEY NOT NULL,
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
