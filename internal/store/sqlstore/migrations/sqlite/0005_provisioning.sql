-- Provisioning (P1–P3): delivery bookkeeping per (event, target) and the
-- webhook endpoints. The worker fans an event out into one delivery row per
-- target that handles its topic, then claims, delivers and settles rows.

-- dispatched: the event's delivery rows exist (set in the same transaction).
ALTER TABLE outbox_events ADD COLUMN dispatched INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_events_undispatched ON outbox_events (seq) WHERE NOT dispatched;
CREATE INDEX outbox_events_undispatched_aggregate ON outbox_events (aggregate, seq) WHERE NOT dispatched;

-- state: pending (to deliver, possibly claimed under a lease), done, dead
-- (attempts used up or a permanent error; replayable), discarded (given up by
-- an administrator). aggregate is copied from the event for the order check.
CREATE TABLE outbox_deliveries (
    event_seq       INTEGER NOT NULL REFERENCES outbox_events (seq) ON DELETE CASCADE,
    target          TEXT NOT NULL,
    aggregate       TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    claimed_by      TEXT NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (event_seq, target),
    CHECK (state IN ('pending', 'done', 'dead', 'discarded'))
);
CREATE INDEX outbox_deliveries_pending ON outbox_deliveries (event_seq) WHERE state = 'pending';
CREATE INDEX outbox_deliveries_open ON outbox_deliveries (target, aggregate, event_seq) WHERE state IN ('pending', 'dead');
CREATE INDEX outbox_deliveries_state ON outbox_deliveries (state, event_seq);

-- Webhook endpoints (P3). secret is kept as given ("whsec_" + base64): the
-- HMAC needs the key itself, so it cannot be hashed; it is shown once on
-- creation and never returned by reads (see docs/architecture.md).
CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    event_types TEXT NOT NULL DEFAULT '',
    secret      TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
