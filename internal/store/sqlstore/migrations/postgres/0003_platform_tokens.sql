-- Platform tokens (A6): at most one per user, stored only as the SHA-256
-- hash of the token text. Deleting the user deletes its token.
CREATE TABLE platform_tokens (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL DEFAULT 0,
    issued_by  TEXT NOT NULL DEFAULT ''
);

-- Billed and non-billed counts per UTC day (B1: a report of the billed
-- count over time); the server records today's counts every hour.
CREATE TABLE billing_snapshots (
    day        TEXT COLLATE "C" PRIMARY KEY, -- YYYY-MM-DD, UTC
    billed     BIGINT NOT NULL,
    non_billed BIGINT NOT NULL,
    taken_at   BIGINT NOT NULL
);
