-- The rest of the documented API: users' first and last names, their state and the `key` the
-- team members endpoint shows; touches' documented fields.

ALTER TABLE users ADD COLUMN first_name text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name text NOT NULL DEFAULT '';
-- `name` stays the full name (what sends show as their sender's): split at its first space.
UPDATE users SET
    first_name = CASE WHEN strpos(name, ' ') > 0 THEN substr(name, 1, strpos(name, ' ') - 1) ELSE name END,
    last_name = CASE WHEN strpos(name, ' ') > 0 THEN btrim(substr(name, strpos(name, ' ') + 1)) ELSE '' END;
-- invited: has not accepted its invitation yet; deactivated: by its identity provider (SCIM).
-- Only active users are listed and only their tokens work.
ALTER TABLE users ADD COLUMN state text NOT NULL DEFAULT 'active'
    CHECK (state IN ('invited', 'active', 'deactivated'));
-- 32 lower-case hex characters: the `key` of GET /api/v3/groups/{id}/members. An identifier the
-- organization sees, not a credential.
ALTER TABLE users ADD COLUMN key text;
UPDATE users SET key = md5(random()::text || id::text);
CREATE INDEX users_org_state ON users (org_id, state, id);

ALTER TABLE touches ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE touches ADD COLUMN user_id bigint;
ALTER TABLE touches ADD CONSTRAINT touches_creator FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id);
ALTER TABLE touches ADD COLUMN gift_id bigint;
-- An eGift campaign's denomination range, both or neither.
ALTER TABLE touches ADD COLUMN starting_egift_price numeric CHECK (starting_egift_price >= 0);
ALTER TABLE touches ADD COLUMN ending_egift_price numeric CHECK (ending_egift_price >= 0);
ALTER TABLE touches ADD COLUMN hubspot_key text;
-- Admin commands name a touch by id alone.
CREATE INDEX touches_id ON touches (id);
