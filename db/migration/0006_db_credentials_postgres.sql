-- The database credential a connection uses per environment, JSON (like endpoints for
-- third-party APIs); an environment without one uses the credential "default".
ALTER TABLE connections ADD COLUMN credentials TEXT NOT NULL DEFAULT '{}';
