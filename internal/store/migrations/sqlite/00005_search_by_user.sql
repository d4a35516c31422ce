-- +goose Up
-- Nothing to change on SQLite: its full-text rows already carry the owner's
-- term (cbowner<id>), so a search is narrowed to the user inside the index.
-- The PostgreSQL twin of this migration gives its search vectors the same
-- term; the number keeps both dialects at the same schema version.
SELECT 1;

-- +goose Down
SELECT 1;
