-- Sign-in rate limits (PostgreSQL: as 0009_replicas_sqlite.sql), shared by every
-- replica on the database.
CREATE TABLE sign_in_limits (
	key_hash   TEXT PRIMARY KEY,
	tokens     DOUBLE PRECISION NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX sign_in_limits_updated ON sign_in_limits (updated_at);

-- The catalog search reads a narrow copy of what it filters, counts and sorts by (a service's
-- row is wide: its spec and sealed secrets), kept by a trigger. sort_key orders names as
-- SQLite's NOCASE does (ASCII letters folded, then bytes), cheaply: the nocase collation
-- (ICU) costs tens of milliseconds to sort thousands of matches.
CREATE TABLE service_search (
	seq        BIGINT PRIMARY KEY REFERENCES services (seq) ON DELETE CASCADE,
	kind       TEXT NOT NULL,
	visibility TEXT,
	unlisted   BOOLEAN NOT NULL,
	project_id BIGINT,
	sort_key   TEXT COLLATE "C" NOT NULL,
	search     tsvector NOT NULL
);
CREATE INDEX service_search_words ON service_search USING gin (search);
CREATE FUNCTION service_search_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO service_search (seq, kind, visibility, unlisted, project_id, sort_key, search)
	VALUES (NEW.seq, NEW.kind, NEW.visibility, NEW.unlisted, NEW.project_id, lower(NEW.display_name COLLATE "C"), NEW.search)
	ON CONFLICT (seq) DO UPDATE SET kind = excluded.kind, visibility = excluded.visibility, unlisted = excluded.unlisted,
		project_id = excluded.project_id, sort_key = excluded.sort_key, search = excluded.search;
	RETURN NULL;
END $$;
CREATE TRIGGER services_search_follow AFTER INSERT OR UPDATE OF kind, visibility, unlisted, project_id, display_name, search
	ON services FOR EACH ROW EXECUTE FUNCTION service_search_follow();
INSERT INTO service_search (seq, kind, visibility, unlisted, project_id, sort_key, search)
	SELECT seq, kind, visibility, unlisted, project_id, lower(display_name COLLATE "C"), search FROM services;
