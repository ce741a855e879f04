-- OpenID Connect provider (S1): clients, authorization requests, tokens,
-- signing keys and the clients each browser session signed in to. All of it
-- lives here so that every replica can continue any flow.

CREATE TABLE oidc_clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    secret_hash               TEXT NOT NULL DEFAULT '',
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    backchannel_logout_uri    TEXT NOT NULL DEFAULT '',
    access_roles              TEXT NOT NULL DEFAULT '[]',
    claims                    TEXT NOT NULL DEFAULT '["groups","roles","customer"]',
    public                    BOOLEAN NOT NULL,
    grant_types               TEXT NOT NULL,
    itsm                      BOOLEAN NOT NULL,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);

-- data holds the request's parameters as JSON.
CREATE TABLE oidc_auth_requests (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    code_hash  TEXT UNIQUE,
    expires_at BIGINT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

-- kind is 'access' (id = jti) or 'refresh' (id = SHA-256 of the token).
CREATE TABLE oidc_tokens (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    family_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family_id);
CREATE INDEX oidc_tokens_user_client ON oidc_tokens (user_id, client_id);
CREATE INDEX oidc_tokens_expires ON oidc_tokens (expires_at);

CREATE TABLE oidc_signing_keys (
    id            TEXT PRIMARY KEY,
    generation    BIGINT NOT NULL UNIQUE,
    algorithm     TEXT NOT NULL,
    private_enc   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT NOT NULL DEFAULT 0,
    publish_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE oidc_signins (
    session_id TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
CREATE INDEX oidc_signins_user ON oidc_signins (user_id);
CREATE INDEX oidc_signins_created ON oidc_signins (created_at);
