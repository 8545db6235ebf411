-- Sends created over HTTP: how they are delivered, the mail they cause, the changes time will
-- make to them, and the idempotency keys of their requests.

ALTER TABLE organizations ADD COLUMN egift_expiry_days INTEGER NOT NULL DEFAULT 90
    CHECK (egift_expiry_days > 0);

-- ISO 3166-1 alpha-2 codes, comma-separated ('US,CA,ES').
ALTER TABLE touches ADD COLUMN ship_to_countries TEXT NOT NULL DEFAULT 'US';

-- One row per send made through the API: its recipient-facing credential and delivery details.
CREATE TABLE send_deliveries (
    org_id                               INTEGER NOT NULL,
    send_id                              INTEGER NOT NULL UNIQUE REFERENCES sends (id),
    -- 40 lower-case hex characters: the only credential of the recipient pages.
    tracking_code                        TEXT    NOT NULL UNIQUE,
    variant                              TEXT    NOT NULL
        CHECK (variant IN ('physical', 'address_collection', 'egift', 'egift_link')),
    custom_message                       TEXT,
    address                              TEXT,
    city                                 TEXT,
    state                                TEXT,
    zip                                  TEXT,
    country                              TEXT,
    mobile_no                            TEXT,
    address_confirmation_via             TEXT CHECK (address_confirmation_via IN ('email', 'link')),
    expire_after_days                    INTEGER,
    resume_with_unconfirmed_address      INTEGER,
    hide_product_info                    INTEGER,
    address_confirmation_custom_message  TEXT,
    PRIMARY KEY (org_id, send_id)
) WITHOUT ROWID;

-- Mail to deliver, written in the transaction that causes it and delivered afterwards.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations (id),
    send_id     INTEGER REFERENCES sends (id),
    kind        TEXT    NOT NULL,
    recipient   TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    text_body   TEXT    NOT NULL,
    html_body   TEXT,
    created_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at     INTEGER,
    failed_at   INTEGER,
    last_error  TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Changes that time will make (an eGift expiring, an address collection running out). A worker
-- applies each one in the transaction that deletes it, so none is skipped or made twice.
CREATE TABLE send_deadlines (
    org_id   INTEGER NOT NULL,
    send_id  INTEGER NOT NULL REFERENCES sends (id),
    kind     TEXT    NOT NULL CHECK (kind IN ('egift_expiry', 'address_expiry')),
    due_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, send_id, kind)
) WITHOUT ROWID;
CREATE INDEX send_deadlines_due ON send_deadlines (due_at);

-- Idempotency-Key of POST requests: the same key and body answer with the sends first created.
CREATE TABLE idempotency_keys (
    org_id        INTEGER NOT NULL,
    key           TEXT    NOT NULL,
    request_hash  BLOB    NOT NULL,
    -- The ids of the sends the request created, comma-separated.
    send_ids      TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (org_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
