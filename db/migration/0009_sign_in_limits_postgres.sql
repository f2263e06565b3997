-- Sign-in rate limits (PostgreSQL: as 0009_sign_in_limits_sqlite.sql), shared by every
-- replica on the database.
CREATE TABLE sign_in_limits (
	key_hash   TEXT PRIMARY KEY,
	tokens     DOUBLE PRECISION NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX sign_in_limits_updated ON sign_in_limits (updated_at);
