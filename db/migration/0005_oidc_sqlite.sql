-- Sign-in with an OpenID Connect provider.

-- The display name the provider gives; empty for users added by hand.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
-- 1 when admin was granted by the provider's admin group (and is taken away with it);
-- 0 for admins made by hand, whom the provider never demotes.
ALTER TABLE users ADD COLUMN admin_by_provider INTEGER NOT NULL DEFAULT 0;
-- 1 when the role was granted by the provider's groups (and follows them); 0 when an admin
-- set it by hand.
ALTER TABLE project_members ADD COLUMN by_provider INTEGER NOT NULL DEFAULT 0;

-- The provider's stable identifier (issuer and subject) of each linked user. A user has at
-- most one identity per issuer.
CREATE TABLE user_identities (
	issuer          TEXT NOT NULL,
	subject         TEXT NOT NULL,
	user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at      TEXT NOT NULL,
	last_sign_in_at TEXT NOT NULL,
	PRIMARY KEY (issuer, subject),
	UNIQUE (issuer, user_id)
);
CREATE INDEX user_identities_user_id ON user_identities (user_id);

-- The provider's ID token of a session, sealed and base64-encoded, for signing out at the
-- provider.
ALTER TABLE sessions ADD COLUMN id_token TEXT;
