-- +goose Up
-- Outgoing email and SMS (package mail): a transactional outbox. A
-- capability writes its message in the same transaction as the change it
-- tells of, so a message is never lost nor sent for a change that rolled
-- back; mail.Service.Run delivers it with retries. Once a message is
-- delivered or given up its bodies are erased (they may hold a single-use
-- link) and only the metadata stays, until the retention purge.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL,            -- email or sms
    kind            TEXT    NOT NULL,            -- what it is about, e.g. verify-email
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL DEFAULT '',
    body_text       TEXT    NOT NULL DEFAULT '',
    body_html       TEXT    NOT NULL DEFAULT '',
    headers         TEXT    NOT NULL DEFAULT '{}', -- JSON object of extra email headers
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,            -- due time; a claimed message's lease end
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    sent_at         INTEGER,
    failed_at       INTEGER
);
-- The sender's queue: only messages still to deliver, by due time.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
-- Erasure and per-user bounds.
CREATE INDEX mail_outbox_user ON mail_outbox (user_id, created_at);
-- Retention purge.
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);

-- Single-use email links (package auth): verify an address, reset a
-- password. Only the SHA-256 of a token is stored. email is the address the
-- link was sent to: the one it proves (a new address, for a change).
CREATE TABLE email_tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT    NOT NULL,                -- verify or reset
    email       TEXT    NOT NULL,
    token_hash  BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE UNIQUE INDEX email_tokens_hash ON email_tokens (token_hash);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose, created_at);
CREATE INDEX email_tokens_expires ON email_tokens (expires_at);

-- +goose Down
DROP TABLE email_tokens;
DROP TABLE mail_outbox;
