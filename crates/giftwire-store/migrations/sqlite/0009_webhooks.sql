-- Webhook endpoints and their deliveries (issue 10). Each send event is fanned out, by the
-- trigger below and so in the transaction that writes the event, to one delivery per enabled
-- endpoint of its organization that wants its type: a change that commits has its deliveries,
-- one that rolls back has none, and an endpoint created later gets only later events.
-- AUTOINCREMENT: ids are never reused, so that nothing (a round under way, an operator's
-- command) meant for a deleted endpoint or delivery can reach a later one.
CREATE TABLE webhook_endpoints (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id                 INTEGER NOT NULL REFERENCES organizations (id),
    url                    TEXT    NOT NULL,
    -- NULL: every type; else ' send.a send.b ' (so that a type is found with instr()).
    events                 TEXT,
    description            TEXT    NOT NULL,
    enabled                INTEGER NOT NULL,
    disabled_reason        TEXT,
    -- Sealed with the operator's sealing key (XChaCha20-Poly1305), never in clear.
    secret                 TEXT    NOT NULL,
    previous_secret        TEXT,
    previous_secret_until  INTEGER,
    -- When the failures since the last success began, and the last one: a failure more than a
    -- day after the one before starts a new run of failures.
    failing_since          INTEGER,
    last_failure_at        INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, id);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id           INTEGER NOT NULL,
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         INTEGER NOT NULL REFERENCES send_events (id),
    send_id          INTEGER NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    -- A worker sending it holds it until then (a crashed worker's are due again after it).
    leased_until     INTEGER,
    status_code      INTEGER,
    latency_ms       INTEGER,
    error            TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER
);
-- What is due, per endpoint; and the order of each send's deliveries to an endpoint.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, send_id, id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
-- Finished deliveries by when they finished: the worker forgets those older than 30 days.
CREATE INDEX webhook_deliveries_finished
    ON webhook_deliveries (COALESCE(delivered_at, next_attempt_at))
    WHERE state <> 'pending';

CREATE TRIGGER send_events_fan_out AFTER INSERT ON send_events
BEGIN
    INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, send_id, next_attempt_at, created_at)
    SELECT NEW.org_id, e.id, NEW.id, NEW.send_id, NEW.occurred_at, NEW.occurred_at
    FROM webhook_endpoints e
    WHERE e.org_id = NEW.org_id AND e.enabled = 1
      AND (e.events IS NULL OR instr(e.events, ' ' || NEW.type || ' ') > 0);
END;
