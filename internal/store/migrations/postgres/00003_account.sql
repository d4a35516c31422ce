-- +goose Up
-- What a user chose in settings and preferences. A row appears with the
-- first change; a NULL column means "never chosen", so the default defined in
-- internal/account applies (and can change without rewriting rows).
CREATE TABLE user_settings (
    user_id                   BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    notify_email              BOOLEAN,
    notify_sms                BOOLEAN,
    notify_marketing          BOOLEAN,
    notify_calls              BOOLEAN,
    notify_billing            BOOLEAN,
    profile_visibility        TEXT,
    recording_consent         BOOLEAN,
    auto_record               BOOLEAN,
    ai_assistance             BOOLEAN,
    call_quality              TEXT,
    noise_cancellation        BOOLEAN,
    auto_answer               BOOLEAN,
    auto_answer_delay_seconds INTEGER,
    updated_at                BIGINT  NOT NULL
);

CREATE TABLE user_preferences (
    user_id          BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    theme            TEXT,
    language         TEXT,
    dashboard_layout TEXT,
    timezone         TEXT,
    date_format      TEXT,
    time_format      TEXT,
    week_start       TEXT,
    widgets          TEXT, -- JSON array of {"id", "visible"}, in display order
    updated_at       BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE user_preferences;
DROP TABLE user_settings;
