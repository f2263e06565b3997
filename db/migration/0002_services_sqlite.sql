-- The service catalog. seq is the stable rowid the full-text index refers to; id is the
-- public, unguessable identifier.
CREATE TABLE services (
	seq          INTEGER PRIMARY KEY,
	id           TEXT NOT NULL UNIQUE,
	kind         TEXT NOT NULL CHECK (kind IN ('internal', 'third-party', 'database')),
	name         TEXT NOT NULL,
	version      TEXT NOT NULL DEFAULT '',
	-- display_name is what the catalog shows and searches: "component – endpoint" for
	-- internal services, the name otherwise.
	display_name TEXT NOT NULL,
	description  TEXT NOT NULL DEFAULT '',
	tags         TEXT NOT NULL DEFAULT '', -- space-separated
	-- scope makes name and version unique per publishing component, or per kind.
	scope        TEXT NOT NULL,
	project_id   INTEGER REFERENCES projects (id) ON DELETE CASCADE,
	component_id INTEGER REFERENCES components (id) ON DELETE CASCADE,
	visibility   TEXT CHECK (visibility IN ('project', 'organization', 'public')),
	security     TEXT CHECK (security IN ('oauth', 'api-key', 'none')),
	engine       TEXT,
	-- spec holds the kind-specific details as JSON, without secret values; secrets holds
	-- the secret values as one sealed JSON object.
	spec         TEXT NOT NULL DEFAULT '{}',
	secrets      BLOB,
	unlisted     INTEGER NOT NULL DEFAULT 0,
	created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX services_scope_name_version ON services (scope, name COLLATE NOCASE, version);
CREATE INDEX services_by_name ON services (unlisted, display_name COLLATE NOCASE);
CREATE INDEX services_by_kind_name ON services (unlisted, kind, display_name COLLATE NOCASE);
-- A search joins its full-text matches to this covering index rather than to the table,
-- whose rows are wide: facets and ordering never read a row they do not show.
CREATE INDEX services_search ON services (seq, unlisted, kind, visibility, project_id, display_name COLLATE NOCASE);
CREATE INDEX services_component ON services (component_id);
CREATE INDEX services_project ON services (project_id, unlisted);

CREATE VIRTUAL TABLE services_fts USING fts5(
	display_name, description, tags,
	content = 'services', content_rowid = 'seq',
	tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);
CREATE TRIGGER services_fts_insert AFTER INSERT ON services BEGIN
	INSERT INTO services_fts (rowid, display_name, description, tags)
	VALUES (new.seq, new.display_name, new.description, new.tags);
END;
CREATE TRIGGER services_fts_delete AFTER DELETE ON services BEGIN
	INSERT INTO services_fts (services_fts, rowid, display_name, description, tags)
	VALUES ('delete', old.seq, old.display_name, old.description, old.tags);
END;
CREATE TRIGGER services_fts_update AFTER UPDATE OF display_name, description, tags ON services BEGIN
	INSERT INTO services_fts (services_fts, rowid, display_name, description, tags)
	VALUES ('delete', old.seq, old.display_name, old.description, old.tags);
	INSERT INTO services_fts (rowid, display_name, description, tags)
	VALUES (new.seq, new.display_name, new.description, new.tags);
END;

-- Facet counts of the whole catalog, kept by triggers, so browsing without a query counts
-- a few rows instead of every service. visibility '' and project_id 0 stand for NULL.
CREATE TABLE service_counts (
	unlisted   INTEGER NOT NULL,
	kind       TEXT NOT NULL,
	visibility TEXT NOT NULL,
	project_id INTEGER NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (unlisted, kind, visibility, project_id)
) WITHOUT ROWID;
CREATE TRIGGER services_count_insert AFTER INSERT ON services BEGIN
	INSERT INTO service_counts (unlisted, kind, visibility, project_id, n)
	VALUES (new.unlisted, new.kind, COALESCE(new.visibility, ''), COALESCE(new.project_id, 0), 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER services_count_delete AFTER DELETE ON services BEGIN
	UPDATE service_counts SET n = n - 1
	WHERE unlisted = old.unlisted AND kind = old.kind AND visibility = COALESCE(old.visibility, '')
		AND project_id = COALESCE(old.project_id, 0);
END;
CREATE TRIGGER services_count_update AFTER UPDATE OF unlisted, kind, visibility, project_id ON services BEGIN
	UPDATE service_counts SET n = n - 1
	WHERE unlisted = old.unlisted AND kind = old.kind AND visibility = COALESCE(old.visibility, '')
		AND project_id = COALESCE(old.project_id, 0);
	INSERT INTO service_counts (unlisted, kind, visibility, project_id, n)
	VALUES (new.unlisted, new.kind, COALESCE(new.visibility, ''), COALESCE(new.project_id, 0), 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;
