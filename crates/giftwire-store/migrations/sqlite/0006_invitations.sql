-- Invitations (POST /api/v3/users): an invited user, the SHA-256 of the token its mailed link
-- carries (the token itself is only in its mail, until the mail is delivered), and when it
-- expires or was accepted.
CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL,
    user_id      INTEGER NOT NULL UNIQUE,
    token_hash   BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
