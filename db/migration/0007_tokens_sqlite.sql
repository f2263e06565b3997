-- Tokens can be told apart: a name, the first characters of the secret (never enough to use
-- it) and who created them. Tokens made before this migration show no prefix.
ALTER TABLE runtime_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE runtime_tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
-- NULL: created on the command line (junction token create), not through the console.
ALTER TABLE tokens ADD COLUMN created_by INTEGER REFERENCES users (id) ON DELETE SET NULL;

-- Runtime fetches per token and hour, flushed from in-memory counters (never a write per
-- fetch). hour is the UTC hour's start, RFC 3339.
CREATE TABLE runtime_token_fetches (
	token_id INTEGER NOT NULL REFERENCES runtime_tokens (id) ON DELETE CASCADE,
	hour     TEXT NOT NULL,
	fetches  INTEGER NOT NULL,
	PRIMARY KEY (token_id, hour)
);
