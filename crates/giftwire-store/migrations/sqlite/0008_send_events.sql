-- The events of sends (webhooks, API_REFERENCE.md §10): one row per creation (seq 0,
-- send.initiated) and per status change (seq = the change's number), written in the transaction
-- of the change, so that none is lost and a change that rolls back emits nothing.
CREATE TABLE send_events (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL,
    send_id      INTEGER NOT NULL REFERENCES sends (id),
    seq          INTEGER NOT NULL,
    type         TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    occurred_at  INTEGER NOT NULL,
    UNIQUE (org_id, send_id, seq)
);
CREATE INDEX send_events_org ON send_events (org_id, id);
