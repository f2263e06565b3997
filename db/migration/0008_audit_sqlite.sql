-- Audit entries become domain events: what they are about (project, component, target),
-- the request behind them and non-secret details as JSON. Rows written before keep their
-- free-text target and read with an empty target type.
ALTER TABLE audit_log ADD COLUMN project TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN project_id INTEGER;
ALTER TABLE audit_log ADD COLUMN component TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN target_type TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN target_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN target_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN client_addr TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
CREATE INDEX audit_log_target ON audit_log (target_id);
CREATE INDEX audit_log_project ON audit_log (project_id);
CREATE INDEX audit_log_action ON audit_log (action);

-- Every write of a component's mappings stores the whole set as a new version, so that any
-- earlier one can be shown and restored. The mappings of before this migration are version 1.
CREATE TABLE mapping_versions (
	component_id INTEGER NOT NULL REFERENCES components (id) ON DELETE CASCADE,
	version      INTEGER NOT NULL,
	at           TEXT NOT NULL,
	actor        TEXT NOT NULL,
	action       TEXT NOT NULL,
	mappings     TEXT NOT NULL,
	PRIMARY KEY (component_id, version)
);
INSERT INTO mapping_versions (component_id, version, at, actor, action, mappings)
	SELECT component_id, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), '', 'mappings.replace',
		json_group_array(json_object('connection_id', connection_id, 'parameter', parameter, 'env', env))
	FROM (SELECT * FROM mappings ORDER BY env) GROUP BY component_id;

-- Rotation with a grace period: the previous OAuth secret or API key keeps working until
-- previous_valid_until, then it is erased. Both are sealed at rest; only hashes are compared.
ALTER TABLE oauth_credentials ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE oauth_credentials ADD COLUMN previous_secret_sealed BLOB;
ALTER TABLE oauth_credentials ADD COLUMN previous_valid_until TEXT;
ALTER TABLE api_keys ADD COLUMN previous_key_hash TEXT;
ALTER TABLE api_keys ADD COLUMN previous_key_sealed BLOB;
ALTER TABLE api_keys ADD COLUMN previous_valid_until TEXT;
CREATE INDEX api_keys_previous ON api_keys (previous_key_hash) WHERE previous_key_hash IS NOT NULL;
