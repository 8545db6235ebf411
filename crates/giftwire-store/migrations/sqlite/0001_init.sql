-- giftwire on SQLite. Times are UTC seconds since the epoch (INTEGER); money is the canonical
-- decimal text of giftwire_core::Money; dates are 'YYYY-MM-DD'.
--
-- Tenancy is enforced by the schema as well as by the code: every row names its organization,
-- and references between rows carry the organization in composite foreign keys, so a send can
-- never point at another organization's touch or user.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    time_zone   TEXT    NOT NULL,
    -- Sends ever created here. Sends are never deleted, so this is the exact total_count, kept
    -- in the same transaction as each insert; org_seq values are 1..send_count without gaps.
    send_count  INTEGER NOT NULL DEFAULT 0 CHECK (send_count >= 0),
    -- Bumped whenever something a listed send shows from the catalog (a touch's or a user's
    -- name, a user's team) changes, so that cached pages of the organization are not reused.
    catalog_version  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations (id),
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, id)
);

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations (id),
    team_id     INTEGER,
    name        TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('regular', 'manager')),
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id)
);
CREATE UNIQUE INDEX users_org_email ON users (org_id, email COLLATE NOCASE);

CREATE TABLE touches (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES organizations (id),
    name           TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    subtype        TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    price          TEXT    NOT NULL,
    delivery_type  TEXT    NOT NULL CHECK (delivery_type IN ('mail', 'email')),
    starts_on      TEXT,
    ends_on        TEXT,
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at     INTEGER NOT NULL,
    UNIQUE (org_id, id)
);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    -- SHA-256 of the token; the token itself is never stored.
    token_hash  BLOB    NOT NULL UNIQUE,
    scopes      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

-- Clustered by organization and position, so that a page is one contiguous range of the table
-- whatever its depth.
CREATE TABLE sends (
    org_id             INTEGER NOT NULL,
    -- Position of the send in its organization: 1, 2, 3, ... in id order. Page N of per_page P
    -- is org_seq in ((N-1)P, NP]: a range read whatever N is.
    org_seq            INTEGER NOT NULL,
    -- Unique across organizations and increasing in creation order.
    id                 INTEGER NOT NULL UNIQUE,
    -- Counts the changes of this send after its creation (status updates and cost changes). The
    -- sum over a page changes whenever the page's content does: it validates cached pages.
    version            INTEGER NOT NULL DEFAULT 0,
    touch_id           INTEGER NOT NULL,
    sender_id          INTEGER NOT NULL,
    recipient_name     TEXT    NOT NULL,
    recipient_email    TEXT    NOT NULL,
    recipient_company  TEXT,
    sent_via           TEXT    NOT NULL,
    cost               TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (org_id, org_seq),
    FOREIGN KEY (org_id, touch_id) REFERENCES touches (org_id, id),
    FOREIGN KEY (org_id, sender_id) REFERENCES users (org_id, id)
) WITHOUT ROWID;

-- The history of each send, oldest first (seq 1, 2, ...). Keyed by organization, then send, so
-- that the updates of one page are one contiguous range.
CREATE TABLE send_status_updates (
    org_id       INTEGER NOT NULL,
    send_id      INTEGER NOT NULL REFERENCES sends (id),
    seq          INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    occurred_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, send_id, seq)
) WITHOUT ROWID;
