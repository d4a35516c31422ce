-- +goose Up
-- Full-text search narrowed to the user inside the index, as on SQLite:
-- every call's search vector also holds its owner's term (cbowner<id>), and
-- a search asks for its words AND that term, so the GIN index hands over
-- only the user's matches instead of every user's. Ingest writes the term
-- from now on; this adds it to the calls already stored.
UPDATE calls SET search_vector = search_vector || to_tsvector('simple', 'cbowner' || user_id);

-- +goose Down
UPDATE calls SET search_vector = ts_delete(search_vector, 'cbowner' || user_id);
