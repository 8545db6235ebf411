-- The rest of the documented API: users' first and last names, their state and the `key` the
-- team members endpoint shows; touches' documented fields.

ALTER TABLE users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
-- `name` stays the full name (what sends show as their sender's): split at its first space.
UPDATE users SET
    first_name = CASE WHEN instr(name, ' ') > 0 THEN substr(name, 1, instr(name, ' ') - 1) ELSE name END,
    last_name = CASE WHEN instr(name, ' ') > 0 THEN trim(substr(name, instr(name, ' ') + 1)) ELSE '' END;
-- invited: has not accepted its invitation yet; deactivated: by its identity provider (SCIM).
-- Only active users are listed and only their tokens work.
ALTER TABLE users ADD COLUMN state TEXT NOT NULL DEFAULT 'active'
    CHECK (state IN ('invited', 'active', 'deactivated'));
-- 32 lower-case hex characters: the `key` of GET /api/v3/groups/{id}/members. An identifier the
-- organization sees, not a credential.
ALTER TABLE users ADD COLUMN key TEXT;
UPDATE users SET key = lower(hex(randomblob(16)));
CREATE INDEX users_org_state ON users (org_id, state, id);

ALTER TABLE touches ADD COLUMN description TEXT NOT NULL DEFAULT '';
-- The user who made the touch (of the same organization, checked by the store), or none.
ALTER TABLE touches ADD COLUMN user_id INTEGER;
ALTER TABLE touches ADD COLUMN gift_id INTEGER;
-- An eGift campaign's denomination range (money text), both or neither.
ALTER TABLE touches ADD COLUMN starting_egift_price TEXT;
ALTER TABLE touches ADD COLUMN ending_egift_price TEXT;
ALTER TABLE touches ADD COLUMN hubspot_key TEXT;
