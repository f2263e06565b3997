-- Users, sign-in sessions and personal access tokens.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	password_hash TEXT NOT NULL,
	is_admin      INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT NOT NULL
);

-- Sessions and tokens are stored as SHA-256 hashes of their secrets.
CREATE TABLE sessions (
	id_hash    TEXT PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	secret_hash  TEXT NOT NULL UNIQUE,
	created_at   TEXT NOT NULL,
	last_used_at TEXT
);
CREATE INDEX tokens_user_id ON tokens (user_id);

-- Environments every connection has values for.
CREATE TABLE environments (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL
);
INSERT INTO environments (name, created_at) VALUES
	('development', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	('production', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TABLE projects (
	id          INTEGER PRIMARY KEY,
	handle      TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);

CREATE TABLE project_members (
	project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('developer', 'viewer')),
	created_at TEXT NOT NULL,
	PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user_id ON project_members (user_id);

CREATE TABLE components (
	id         INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	handle     TEXT NOT NULL,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (project_id, handle)
);

-- Installation-wide settings, such as the sealed key check value.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
