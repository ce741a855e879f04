-- Issue 18: how a session signed in, for the amr claim: '' (a password,
-- with or without a one-time code, as before), 'hwk' (a passkey) or 'fed'
-- (the customer's own identity provider).
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT '';
