-- +goose Up
-- Nothing to change on PostgreSQL: its search vectors hold the owner's term
-- and a search reads them through the GIN index narrowed by it, or checks
-- the newest calls' vectors one by one. The SQLite twin of this migration
-- rebuilds that database's full-text index with owner-qualified terms; the
-- number keeps both dialects at the same schema version.
SELECT 1;

-- +goose Down
SELECT 1;
