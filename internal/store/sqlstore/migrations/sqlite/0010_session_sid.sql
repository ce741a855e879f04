-- Issue 15: the sid of a session (the OpenID Connect sid claim, derived
-- from the session's hash), so that a refresh finds its session with one
-- indexed read instead of reading every session of the user.
ALTER TABLE sessions ADD COLUMN sid TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_sid ON sessions (sid);
