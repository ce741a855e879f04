-- Issue 16: the identifier a provisioning client (SCIM externalId) gives a
-- user or group in its own system. Not unique: two clients may reuse one.
ALTER TABLE users ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
CREATE INDEX users_external_id ON users (external_id) WHERE external_id <> '';
ALTER TABLE groups ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
CREATE INDEX groups_external_id ON groups (external_id) WHERE external_id <> '';
