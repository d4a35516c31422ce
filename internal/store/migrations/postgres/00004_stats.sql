-- +goose Up
-- Per-user, per-day, per-agent call statistics, kept exact by ingest in the
-- same transaction as the calls they count. day is the user-local date as
-- YYYYMMDD in the timezone recorded in stats_zones; agent_id 0 is "no agent".
-- Day 0 (agent 0) holds each user's all-time totals.
CREATE TABLE call_rollups (
    user_id            BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day                BIGINT NOT NULL,
    agent_id           BIGINT NOT NULL,
    total_calls        BIGINT NOT NULL DEFAULT 0,
    completed_calls    BIGINT NOT NULL DEFAULT 0,
    failed_calls       BIGINT NOT NULL DEFAULT 0,
    busy_calls         BIGINT NOT NULL DEFAULT 0,
    no_answer_calls    BIGINT NOT NULL DEFAULT 0,
    canceled_calls     BIGINT NOT NULL DEFAULT 0,
    duration_seconds   BIGINT NOT NULL DEFAULT 0,
    timed_calls        BIGINT NOT NULL DEFAULT 0,
    satisfaction_sum   BIGINT NOT NULL DEFAULT 0,
    rated_calls        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day, agent_id)
);

-- The timezone each user's rollups were computed in. When the user's
-- preferred timezone differs, a rebuild is due and the overview computes
-- from the calls themselves until it is done.
CREATE TABLE stats_zones (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    timezone   TEXT    NOT NULL,
    rebuilt_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE stats_zones;
DROP TABLE call_rollups;
