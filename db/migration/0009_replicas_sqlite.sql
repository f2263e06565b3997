-- Sign-in rate limits, counted in the database so that every process on it (every replica on
-- PostgreSQL) shares one count: a token bucket per key (a client address, or an address and
-- an e-mail, hashed). tokens is what is left at updated_at (Unix microseconds).
CREATE TABLE sign_in_limits (
	key_hash   TEXT PRIMARY KEY,
	tokens     REAL NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sign_in_limits_updated ON sign_in_limits (updated_at);
