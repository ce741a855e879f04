-- Issue 18: the customers' own OpenID Connect providers and the links of
-- users to their upstream accounts. client_secret is sealed with the
-- key-encryption key (AES-256-GCM, bound to the provider id); '' for a
-- public client. scopes is one space-separated column (scope tokens have no
-- spaces, RFC 6749 §3.3).
CREATE TABLE identity_providers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL DEFAULT 'oidc',
    issuer        TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_secret TEXT NOT NULL DEFAULT '',
    scopes        TEXT NOT NULL,
    customer_id   TEXT REFERENCES customers (id),
    auto_create   BOOLEAN NOT NULL DEFAULT false,
    enabled       BOOLEAN NOT NULL DEFAULT true,
    mandatory     BOOLEAN NOT NULL DEFAULT false,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);

-- A mail domain belongs to at most one provider.
CREATE TABLE identity_provider_domains (
    provider_id TEXT NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    domain      TEXT COLLATE "C" NOT NULL UNIQUE
);
CREATE INDEX identity_provider_domains_provider ON identity_provider_domains (provider_id);

-- The roles given to the users a provider creates.
CREATE TABLE identity_provider_roles (
    provider_id TEXT NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    role_id     TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (provider_id, role_id)
);

-- A user's link to its upstream account (provider + sub). user_id becomes
-- NULL when the user is deleted, so that the upstream account stays
-- refused instead of being created afresh.
CREATE TABLE identities (
    provider_id TEXT NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    user_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
    email       TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (provider_id, subject)
);
CREATE UNIQUE INDEX identities_user ON identities (user_id, provider_id);
