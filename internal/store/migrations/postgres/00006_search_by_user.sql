-- +goose Up
-- Full-text search narrowed to the user inside the index: a GIN index over
-- (user_id, search_vector) finds one user's matches of a word without
-- reading every user's (btree_gin gives GIN its bigint operator class).
-- Every search names the user, so the index on search_vector alone goes.
-- The extension lives in public, never in a schema of the application's
-- own (tests drop theirs); it is trusted, so the database's owner may
-- create it.
CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public;
CREATE INDEX calls_user_search ON calls USING GIN (user_id, search_vector);
DROP INDEX calls_search;

-- +goose Down
CREATE INDEX calls_search ON calls USING GIN (search_vector);
DROP INDEX calls_user_search;
