-- +goose Up
-- The full-text index of calls, rebuilt with owner-qualified terms: each
-- word of a call is indexed behind its owner's prefix ("u42xrefund" for
-- "refund" in a call of user 42), so a search reads only the user's own
-- entries of its words. Before, every word was one term for all users and
-- the row also held the owner's term (cbowner42): a prefix query
-- ("refund"*) merged every user's entries of the word before the owner's
-- term narrowed them, so a word common on the platform cost every search
-- of it, whoever searched.
--
-- The terms are made in Go (package searchtext: lowercased, diacritics
-- removed, each word once), here through the SQL functions package store
-- registers, so the rebuilt rows are exactly what ingest writes. The ascii
-- tokenizer splits only where those terms cannot hold a character (ASCII
-- punctuation and spaces), so each term stays one token. With detail=none
-- the index records which calls hold a term and nothing else, so one
-- column serves numbers, summary and transcript alike.
DROP TABLE calls_fts;
CREATE VIRTUAL TABLE calls_fts USING fts5 (
    terms,
    content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
INSERT INTO calls_fts (rowid, terms)
    SELECT id, search_owner_terms(user_id, search_number_terms(from_number, to_number), summary, transcript)
    FROM calls;
-- The index's terms, one row per term and call, in term order: a search
-- looks up which of the user's terms start with a word it was given, to
-- ask the index for those terms (read lazily, in id order) rather than for
-- the prefix (which FTS5 merges in full before returning any call).
CREATE VIRTUAL TABLE calls_fts_terms USING fts5vocab (calls_fts, instance);

-- +goose Down
DROP TABLE calls_fts_terms;
DROP TABLE calls_fts;
CREATE VIRTUAL TABLE calls_fts USING fts5 (
    numbers, summary, transcript,
    content = '', contentless_delete = 1, detail = none, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO calls_fts (rowid, numbers, summary, transcript)
    SELECT id, 'cbowner' || user_id || ' ' || search_number_terms(from_number, to_number), summary, transcript
    FROM calls;
