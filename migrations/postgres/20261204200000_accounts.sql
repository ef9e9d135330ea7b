-- Accounts, their sessions, and secrets the service generates for itself (such as the
-- JWT key when JWT_SECRET_KEY is unset, so every instance signs with the same key).
-- Instants here are epoch milliseconds (UTC), as in the SQLite schema: the service
-- compares them on every request and never needs the database to format them.

CREATE TABLE accounts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL CHECK (email <> ''),
    -- The email lower-cased by the service: unique, so emails are unique whatever their case.
    email_key     TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL CHECK (name <> ''),
    department    TEXT,
    role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    -- PHC string of an Argon2id hash.
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    -- Public id; identity ids are never reused, so a token naming an old session can never
    -- name a new one.
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- SHA-256 (hex) of the token only the client holds.
    token_hash   TEXT   NOT NULL UNIQUE,
    csrf_token   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    client_addr  TEXT,
    user_agent   TEXT,
    revoked_at   BIGINT
);

CREATE INDEX sessions_live_by_account ON sessions (account_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_live_by_expiry ON sessions (expires_at) WHERE revoked_at IS NULL;

CREATE TABLE generated_secrets (
    name       TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
