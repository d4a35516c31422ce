-- +goose Up
-- The platform's AI agents. They belong to one customer: names and voices
-- are per customer, so the platform's agent id is unique per user.
CREATE TABLE agents (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    external_id TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    voice       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX agents_user_external ON agents (user_id, external_id);

-- One row per call the platform reported. Sort keys are NOT NULL so keyset
-- pagination is the same on both databases: satisfaction 0 means "not rated"
-- and duration_seconds 0 "not known yet". The transcript is the last column
-- so reading a list row never touches its overflow pages.
CREATE TABLE calls (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    agent_id         INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    external_id      TEXT    NOT NULL,
    direction        TEXT    NOT NULL,
    from_number      TEXT    NOT NULL,
    to_number        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    answered_at      INTEGER,
    ended_at         INTEGER,
    duration_seconds INTEGER NOT NULL DEFAULT 0,
    satisfaction     INTEGER NOT NULL DEFAULT 0,
    sentiment        TEXT,
    end_reason       TEXT,
    cost_amount      INTEGER,
    cost_currency    TEXT,
    recording_url    TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    summary          TEXT    NOT NULL DEFAULT '',
    transcript       TEXT    NOT NULL DEFAULT ''
);
-- The platform's call id is unique across the platform.
CREATE UNIQUE INDEX calls_external ON calls (external_id);
-- The history: newest first, keyset on (started_at, id).
CREATE INDEX calls_user_started ON calls (user_id, started_at, id);
-- The status filter, still in history order.
CREATE INDEX calls_user_status_started ON calls (user_id, status, started_at, id);
-- The agent filter (an agent belongs to one user) and ON DELETE SET NULL.
CREATE INDEX calls_agent_started ON calls (agent_id, started_at, id);
-- The duration and satisfaction orderings.
CREATE INDEX calls_user_duration ON calls (user_id, duration_seconds, id);
CREATE INDEX calls_user_satisfaction ON calls (user_id, satisfaction, id);

-- Full-text search over numbers, summary and transcript. Contentless (the
-- text lives in calls only) and maintained by ingest, which writes a row only
-- when the text changed; "numbers" holds every digit suffix of both numbers
-- so a prefix query finds a number by any part of it.
CREATE VIRTUAL TABLE calls_fts USING fts5 (
    numbers, summary, transcript,
    content = '', contentless_delete = 1, detail = none, tokenize = 'unicode61 remove_diacritics 2'
);

-- +goose Down
DROP TABLE calls_fts;
DROP TABLE calls;
DROP TABLE agents;
