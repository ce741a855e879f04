-- Directory core: customers, users, groups, roles and the links between them.
-- Key columns use the "C" collation so that prefix ranges follow byte order.
-- Times are UTC microseconds since the Unix epoch (same in both dialects).
-- *_key columns hold the case-folded value that uniqueness and search use.

CREATE TABLE customers (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    code_key   TEXT COLLATE "C" NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    name_key   TEXT COLLATE "C" NOT NULL UNIQUE,
    street     TEXT NOT NULL DEFAULT '',
    zip        TEXT NOT NULL DEFAULT '',
    city       TEXT NOT NULL DEFAULT '',
    country    TEXT NOT NULL DEFAULT '',
    url        TEXT NOT NULL DEFAULT '',
    comment    TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL CHECK (state IN ('valid', 'invalid', 'invalid_temporarily')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL,
    username_key   TEXT COLLATE "C" NOT NULL UNIQUE,
    email          TEXT NOT NULL,
    email_key      TEXT COLLATE "C" NOT NULL UNIQUE,
    first_name     TEXT NOT NULL,
    first_name_key TEXT COLLATE "C" NOT NULL,
    last_name      TEXT NOT NULL,
    last_name_key  TEXT COLLATE "C" NOT NULL,
    enabled        BOOLEAN NOT NULL,
    email_verified BOOLEAN NOT NULL,
    otp_required   BOOLEAN NOT NULL,
    company        TEXT NOT NULL DEFAULT '',
    department     TEXT NOT NULL DEFAULT '',
    address        TEXT NOT NULL DEFAULT '',
    phone1         TEXT NOT NULL DEFAULT '',
    phone2         TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    customer_id    TEXT REFERENCES customers (id),
    timezone       TEXT NOT NULL,
    itsm_signed_in BOOLEAN NOT NULL DEFAULT false,
    locked_until   BIGINT NOT NULL DEFAULT 0,
    last_login_at  BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version    BIGINT NOT NULL
);
CREATE INDEX users_customer ON users (customer_id, username_key);
CREATE INDEX users_first_name ON users (first_name_key, id);
CREATE INDEX users_last_name ON users (last_name_key, id);
CREATE INDEX users_created ON users (created_at, id);
CREATE INDEX users_updated ON users (updated_at, id);

CREATE TABLE user_passwords (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL UNIQUE,
    email       TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version    BIGINT NOT NULL
);

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL UNIQUE,
    type        TEXT NOT NULL CHECK (type IN ('primitive', 'preinstalled', 'custom')),
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version    BIGINT NOT NULL
);

-- One row; bumped in the same transaction as every role or containment change.
CREATE TABLE role_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO role_revision (id, revision) VALUES (1, 0);

CREATE TABLE role_contains (
    parent_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    child_id  TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX role_contains_child ON role_contains (child_id);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE group_roles (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, role_id)
);
CREATE INDEX group_roles_role ON group_roles (role_id);

CREATE TABLE group_relations (
    from_group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    to_group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    type          TEXT NOT NULL CHECK (type IN ('manage', 'managed', 'both')),
    PRIMARY KEY (from_group_id, to_group_id)
);
CREATE INDEX group_relations_to ON group_relations (to_group_id);
