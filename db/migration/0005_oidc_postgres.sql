-- Sign-in with an OpenID Connect provider (PostgreSQL: as 0005_oidc_sqlite.sql, with booleans).

-- The display name the provider gives; empty for users added by hand.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
-- TRUE when admin was granted by the provider's admin group (and is taken away with it);
-- FALSE for admins made by hand, whom the provider never demotes.
ALTER TABLE users ADD COLUMN admin_by_provider BOOLEAN NOT NULL DEFAULT FALSE;
-- TRUE when the role was granted by the provider's groups (and follows them); FALSE when an
-- admin set it by hand.
ALTER TABLE project_members ADD COLUMN by_provider BOOLEAN NOT NULL DEFAULT FALSE;

-- The provider's stable identifier (issuer and subject) of each linked user. A user has at
-- most one identity per issuer.
CREATE TABLE user_identities (
	issuer          TEXT NOT NULL,
	subject         TEXT NOT NULL,
	user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at      TEXT NOT NULL,
	last_sign_in_at TEXT NOT NULL,
	PRIMARY KEY (issuer, subject),
	UNIQUE (issuer, user_id)
);
CREATE INDEX user_identities_user_id ON user_identities (user_id);

-- The provider's ID token of a session, sealed and base64-encoded, for signing out at the
-- provider.
ALTER TABLE sessions ADD COLUMN id_token TEXT;
