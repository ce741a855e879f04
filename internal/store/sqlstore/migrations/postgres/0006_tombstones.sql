-- Tombstones (D1–D3): deleted users who live on in the ITSM app.
-- username_key and email_key are NOT unique: mails can repeat historically
-- (an operator may reuse a tombstone's mail without a conflict, D2, and be
-- deleted in turn), and writing a tombstone must never make a delete fail.
-- itsm_link (the deleted user's id) is unique: one tombstone per deleted user.
-- taken_over_by has no foreign key: the user who took over may be deleted.

CREATE TABLE tombstones (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT COLLATE "C" NOT NULL,
    email         TEXT NOT NULL,
    email_key     TEXT COLLATE "C" NOT NULL,
    customer_id   TEXT REFERENCES customers (id),
    itsm_link     TEXT NOT NULL UNIQUE,
    deleted_at    BIGINT NOT NULL,
    taken_over_by TEXT,
    taken_over_at BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL
);
CREATE INDEX tombstones_username ON tombstones (username_key, id);
CREATE INDEX tombstones_email ON tombstones (email_key, id);
CREATE INDEX tombstones_deleted ON tombstones (deleted_at, id);
CREATE INDEX tombstones_taken_over_by ON tombstones (taken_over_by);
