-- Filters, exports and the change feed of sends (issue 11).
--
-- status: the send's current status (its last history entry's, or 'pending'), written with
-- every status update, so that a filtered listing finds its sends along an index.
-- change_seq: where the send's last change (its creation or its latest status update) stands in
-- its organization's change feed. Each change takes the organization's largest plus one while it
-- holds the database's only write lock, so the numbers grow in commit order and a reader that
-- continues after the last one it saw misses nothing.
ALTER TABLE sends ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE sends ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;

UPDATE sends SET
    status = COALESCE((SELECT u.status FROM send_status_updates u
                       WHERE u.org_id = sends.org_id AND u.send_id = sends.id
                       ORDER BY u.seq DESC LIMIT 1), 'pending'),
    change_seq = org_seq;

CREATE UNIQUE INDEX sends_changes ON sends (org_id, change_seq);
-- One index per filter of the listing; each also orders the sends it holds (org_seq is the
-- primary key, which every index of a WITHOUT ROWID table ends with).
CREATE INDEX sends_status ON sends (org_id, status);
CREATE INDEX sends_touch ON sends (org_id, touch_id);
CREATE INDEX sends_sender ON sends (org_id, sender_id);
CREATE INDEX sends_created ON sends (org_id, created_at);
CREATE INDEX sends_recipient ON sends (org_id, recipient_email COLLATE NOCASE);
