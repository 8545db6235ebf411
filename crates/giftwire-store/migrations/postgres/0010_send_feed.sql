-- Filters, exports and the change feed of sends (issue 11).
--
-- status: the send's current status (its last history entry's, or 'pending'), written with
-- every status update, so that a filtered listing finds its sends along an index.
-- change_seq: where the send's last change (its creation or its latest status update) stands in
-- its organization's change feed. Every transaction that changes sends of an organization first
-- takes that organization's transaction-scoped advisory lock (flows::SendSql::order_changes), and
-- takes its numbers from the sequence while it holds it; the lock is released only once the
-- commit is visible. So the organization's numbers grow in commit order, every snapshot sees a
-- prefix of them, and a reader that continues after the last one it saw misses nothing.
ALTER TABLE sends ADD COLUMN status text NOT NULL DEFAULT 'pending';

CREATE SEQUENCE send_changes AS bigint;
ALTER TABLE sends ADD COLUMN change_seq bigint NOT NULL DEFAULT nextval('send_changes');

UPDATE sends s SET status = last.status
FROM (SELECT DISTINCT ON (org_id, send_id) org_id, send_id, status
      FROM send_status_updates ORDER BY org_id, send_id, seq DESC) last
WHERE last.org_id = s.org_id AND last.send_id = s.id;

CREATE UNIQUE INDEX sends_changes ON sends (org_id, change_seq);
-- One index per filter of the listing, each ordered for the page it reads.
CREATE INDEX sends_status ON sends (org_id, status, org_seq);
CREATE INDEX sends_touch ON sends (org_id, touch_id, org_seq);
CREATE INDEX sends_sender ON sends (org_id, sender_id, org_seq);
CREATE INDEX sends_created ON sends (org_id, created_at);
CREATE INDEX sends_recipient ON sends (org_id, lower(recipient_email), org_seq);
