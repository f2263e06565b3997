-- OAuth applications: one per project for its project-scope connections to OAuth services,
-- and one per component for its component-scope ones. Exactly one owner column is set.
CREATE TABLE oauth_apps (
	id           INTEGER PRIMARY KEY,
	project_id   INTEGER REFERENCES projects (id) ON DELETE CASCADE,
	component_id INTEGER REFERENCES components (id) ON DELETE CASCADE,
	created_at   TEXT NOT NULL,
	CHECK ((project_id IS NULL) != (component_id IS NULL))
);
CREATE UNIQUE INDEX oauth_apps_project ON oauth_apps (project_id) WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX oauth_apps_component ON oauth_apps (component_id) WHERE component_id IS NOT NULL;

-- Client credentials of an application, per environment. The secret is stored as a hash to
-- check token requests and sealed to show it to developers.
CREATE TABLE oauth_credentials (
	app_id        INTEGER NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
	environment   TEXT NOT NULL,
	client_id     TEXT NOT NULL UNIQUE,
	secret_hash   TEXT NOT NULL,
	secret_sealed BLOB NOT NULL,
	rotated_at    TEXT NOT NULL,
	PRIMARY KEY (app_id, environment)
);

CREATE TABLE connections (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	description  TEXT NOT NULL DEFAULT '',
	scope        TEXT NOT NULL CHECK (scope IN ('project', 'component')),
	project_id   INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	component_id INTEGER REFERENCES components (id) ON DELETE CASCADE,
	-- scope_key makes names unique per project (project scope) or per component.
	scope_key    TEXT NOT NULL,
	service_id   TEXT NOT NULL REFERENCES services (id),
	-- No cascade: an application is deleted only once no connection uses it.
	oauth_app_id INTEGER REFERENCES oauth_apps (id),
	endpoints    TEXT NOT NULL DEFAULT '{}', -- third-party endpoint per environment, JSON
	created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL,
	CHECK ((scope = 'project') = (component_id IS NULL))
);
CREATE UNIQUE INDEX connections_name ON connections (scope_key, name COLLATE NOCASE);
CREATE INDEX connections_project ON connections (project_id, component_id);
CREATE INDEX connections_component ON connections (component_id);
CREATE INDEX connections_service ON connections (service_id);
CREATE INDEX connections_oauth_app ON connections (oauth_app_id);

-- API keys of connections to api-key services, one per environment.
CREATE TABLE api_keys (
	connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
	environment   TEXT NOT NULL,
	key_hash      TEXT NOT NULL UNIQUE,
	key_sealed    BLOB NOT NULL,
	rotated_at    TEXT NOT NULL,
	PRIMARY KEY (connection_id, environment)
);

-- Who did what to which target, and how it ended: every state change, sign-in, secret
-- reveal and rotation. Never a secret.
CREATE TABLE audit_log (
	id      INTEGER PRIMARY KEY,
	at      TEXT NOT NULL,
	actor   TEXT NOT NULL,
	action  TEXT NOT NULL,
	target  TEXT NOT NULL,
	outcome TEXT NOT NULL DEFAULT 'ok'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor);
