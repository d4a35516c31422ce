-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    first_name    TEXT    NOT NULL,
    last_name     TEXT    NOT NULL,
    phone         TEXT,
    avatar_key    TEXT,
    is_verified   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER
);
-- Emails are stored lower-cased, so this index makes them unique case-insensitively.
CREATE UNIQUE INDEX users_email ON users (email);

-- One row per signed-in device. The session is the refresh-token family:
-- refresh_hash is the SHA-256 of its current refresh token.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_hash BLOB    NOT NULL,
    user_agent   TEXT    NOT NULL,
    ip           TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    revoke_reason TEXT
);
CREATE UNIQUE INDEX sessions_refresh_hash ON sessions (refresh_hash);
CREATE INDEX sessions_user ON sessions (user_id, revoked_at);

-- Refresh tokens already rotated out; presenting one again is reuse.
CREATE TABLE retired_refresh_tokens (
    token_hash BLOB    PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    retired_at INTEGER NOT NULL
);
CREATE INDEX retired_refresh_tokens_session ON retired_refresh_tokens (session_id);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    kind       TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    user_agent TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_events_user ON audit_events (user_id, created_at);

-- Fixed-window counters shared by every instance (login failures per account
-- and per client address).
CREATE TABLE rate_limits (
    key          TEXT    PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL
);

-- +goose Down
DROP TABLE rate_limits;
DROP TABLE audit_events;
DROP TABLE retired_refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
