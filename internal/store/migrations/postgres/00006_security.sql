-- +goose Up
-- A user's notifications (package notify). data is a JSON object of
-- strings; read_at is NULL while unread.
CREATE TABLE notifications (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category   TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL DEFAULT '',
    data       TEXT    NOT NULL DEFAULT '{}',
    created_at BIGINT  NOT NULL,
    read_at    BIGINT
);
-- The list (newest first, keyset on id) and the live stream (id > last seen).
CREATE INDEX notifications_user ON notifications (user_id, id);
-- The unread count and ?unread=true, without touching read rows.
CREATE INDEX notifications_user_unread ON notifications (user_id, id) WHERE read_at IS NULL;
-- Retention purge.
CREATE INDEX notifications_created ON notifications (created_at);

-- Single-use tickets that open a notification stream (an EventSource cannot
-- send an Authorization header). Only the SHA-256 of a ticket is stored.
CREATE TABLE notification_stream_tickets (
    ticket_hash BYTEA   PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  BIGINT  NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX notification_stream_tickets_user ON notification_stream_tickets (user_id, expires_at);
CREATE INDEX notification_stream_tickets_expires ON notification_stream_tickets (expires_at);

-- audit_events (00001) is package audit's now: its retention purge walks
-- entries by age, and the security log pages by id per user.
CREATE INDEX audit_events_created ON audit_events (created_at);
CREATE INDEX audit_events_user_id ON audit_events (user_id, id);

-- +goose Down
DROP INDEX audit_events_user_id;
DROP INDEX audit_events_created;
DROP TABLE notification_stream_tickets;
DROP TABLE notifications;
