-- A component's environment variables: each maps one parameter of a connection the component
-- may use (its own, or one of its project's) to a name unique within the component.
CREATE TABLE mappings (
	component_id  INTEGER NOT NULL REFERENCES components (id) ON DELETE CASCADE,
	connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
	parameter     TEXT NOT NULL,
	env           TEXT NOT NULL,
	PRIMARY KEY (component_id, connection_id, parameter),
	UNIQUE (component_id, env)
);
CREATE INDEX mappings_connection ON mappings (connection_id);

-- Runtime tokens let a component fetch its variables for one environment; only the SHA-256
-- of the token is stored.
CREATE TABLE runtime_tokens (
	id           INTEGER PRIMARY KEY,
	component_id INTEGER NOT NULL REFERENCES components (id) ON DELETE CASCADE,
	environment  TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,
	created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at   TEXT NOT NULL,
	-- Runtime fetches are audited per token as first and last use, so the hot path does not
	-- write a row per request.
	first_used_at TEXT,
	last_used_at TEXT
);
CREATE INDEX runtime_tokens_component ON runtime_tokens (component_id);
