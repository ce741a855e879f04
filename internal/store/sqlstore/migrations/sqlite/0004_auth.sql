-- Sign-in state (issue 4): lockout counters (A3) and the account page's
-- wrong-password counter (A7) on users; one-time code secrets (A1);
-- server-side sessions (A5); single-use mail links (A4). Secrets of
-- sessions and links are stored only as SHA-256 hashes.

ALTER TABLE users ADD COLUMN login_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failure_window_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN account_password_failures INTEGER NOT NULL DEFAULT 0;

CREATE TABLE user_otp (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret     TEXT NOT NULL DEFAULT '',
    pending    TEXT NOT NULL DEFAULT '',
    last_step  INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage        TEXT NOT NULL CHECK (stage IN ('otp', 'enrol', 'full')),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE mail_links (
    hash       TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('password_setup', 'password_reset', 'verify_email')),
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL DEFAULT '',
    event_id   TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX mail_links_user ON mail_links (user_id);
CREATE INDEX mail_links_event ON mail_links (event_id);
