-- Platform tokens (A6): at most one per user, stored only as the SHA-256
-- hash of the token text. Deleting the user deletes its token.
CREATE TABLE platform_tokens (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0,
    issued_by  TEXT NOT NULL DEFAULT ''
);

-- Billed and non-billed counts per UTC day (B1: a report of the billed
-- count over time); the server records today's counts every hour.
CREATE TABLE billing_snapshots (
    day        TEXT PRIMARY KEY, -- YYYY-MM-DD, UTC
    billed     INTEGER NOT NULL,
    non_billed INTEGER NOT NULL,
    taken_at   INTEGER NOT NULL
);
