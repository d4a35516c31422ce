-- +goose Up
-- What a user chose in settings and preferences. A row appears with the
-- first change; a NULL column means "never chosen", so the default defined in
-- internal/account applies (and can change without rewriting rows).
CREATE TABLE user_settings (
    user_id                   INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    notify_email              INTEGER,
    notify_sms                INTEGER,
    notify_marketing          INTEGER,
    notify_calls              INTEGER,
    notify_billing            INTEGER,
    profile_visibility        TEXT,
    recording_consent         INTEGER,
    auto_record               INTEGER,
    ai_assistance             INTEGER,
    call_quality              TEXT,
    noise_cancellation        INTEGER,
    auto_answer               INTEGER,
    auto_answer_delay_seconds INTEGER,
    updated_at                INTEGER NOT NULL
);

CREATE TABLE user_preferences (
    user_id          INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    theme            TEXT,
    language         TEXT,
    dashboard_layout TEXT,
    timezone         TEXT,
    date_format      TEXT,
    time_format      TEXT,
    week_start       TEXT,
    widgets          TEXT, -- JSON array of {"id", "visible"}, in display order
    updated_at       INTEGER NOT NULL
);

-- +goose Down
DROP TABLE user_preferences;
DROP TABLE user_settings;
