-- OAuth 2.0: users who sign in, their sessions, applications (clients), authorization codes,
-- and the tokens issued from them (in api_tokens, beside operator tokens). Every secret is
-- stored as its SHA-256 (passwords as argon2id PHC strings).

ALTER TABLE users ADD COLUMN password_hash TEXT;
-- An email address signs in to one account, whatever the organization.
CREATE UNIQUE INDEX users_password_email ON users (lower(email)) WHERE password_hash IS NOT NULL;

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    session_hash  BLOB    NOT NULL UNIQUE,
    org_id        INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

CREATE TABLE oauth_apps (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES organizations (id),
    client_id      TEXT    NOT NULL UNIQUE,
    -- NULL for a public client.
    secret_hash    BLOB,
    name           TEXT    NOT NULL,
    -- One URI per line.
    redirect_uris  TEXT    NOT NULL,
    scopes         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER
);
CREATE INDEX oauth_apps_org ON oauth_apps (org_id, id);

CREATE TABLE oauth_codes (
    id              INTEGER PRIMARY KEY,
    app_id          INTEGER NOT NULL REFERENCES oauth_apps (id),
    org_id          INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    code_hash       BLOB    NOT NULL UNIQUE,
    redirect_uri    TEXT    NOT NULL,
    scopes          TEXT    NOT NULL,
    code_challenge  TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

ALTER TABLE api_tokens ADD COLUMN app_id INTEGER REFERENCES oauth_apps (id);
-- The code this token's family comes from.
ALTER TABLE api_tokens ADD COLUMN code_id INTEGER REFERENCES oauth_codes (id);
ALTER TABLE api_tokens ADD COLUMN refresh_hash BLOB;
-- When the refresh token was exchanged for a new pair (it is then spent).
ALTER TABLE api_tokens ADD COLUMN refreshed_at INTEGER;
CREATE UNIQUE INDEX api_tokens_refresh ON api_tokens (refresh_hash) WHERE refresh_hash IS NOT NULL;
CREATE INDEX api_tokens_code ON api_tokens (code_id) WHERE code_id IS NOT NULL;
CREATE INDEX api_tokens_app ON api_tokens (app_id) WHERE app_id IS NOT NULL;
