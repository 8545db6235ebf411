-- SCIM 2.0 provisioning: what identity providers keep on a user beyond what the Core API shows.
-- externalId: the provider's own id of the user (case-exact).
ALTER TABLE users ADD COLUMN external_id TEXT;
-- userType as the provider set it (`sender`, `manager`, `admin`); the role follows from it.
ALTER TABLE users ADD COLUMN user_type TEXT CHECK (user_type IN ('sender', 'manager', 'admin'));
-- meta.lastModified (meta.created is created_at).
ALTER TABLE users ADD COLUMN updated_at INTEGER;
-- Deleted over SCIM: deactivated and no longer found by SCIM; the row stays for its sends and
-- ledger, and creating its userName again brings it back.
ALTER TABLE users ADD COLUMN scim_deleted_at INTEGER;
-- The SCIM representation of what giftwire keeps in its own columns otherwise: userName as the
-- provider spelled it (NULL: the email), the emails array as it was given (JSON; NULL: the
-- email alone), and whether `active` is shown (a PATCH may remove it).
ALTER TABLE users ADD COLUMN scim_user_name TEXT;
ALTER TABLE users ADD COLUMN scim_emails TEXT;
ALTER TABLE users ADD COLUMN scim_active_shown INTEGER NOT NULL DEFAULT 1;
