-- Issue 12: a session remembers whether a one-time code was entered, for
-- the amr and acr claims (RFC 8176).
ALTER TABLE sessions ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;

-- Logging out one browser session revokes the tokens of that session only.
CREATE INDEX oidc_tokens_session ON oidc_tokens (session_id);

-- A code's request is kept after the exchange, marked used, so that a
-- replayed code revokes the tokens of its first use (RFC 6749 §4.1.2).
ALTER TABLE oidc_auth_requests ADD COLUMN used_at BIGINT NOT NULL DEFAULT 0;

-- Service clients may call the access API with their own token (C5);
-- resource servers may introspect tokens issued to other clients.
ALTER TABLE oidc_clients ADD COLUMN access_api INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oidc_clients ADD COLUMN resource_server INTEGER NOT NULL DEFAULT 0;
