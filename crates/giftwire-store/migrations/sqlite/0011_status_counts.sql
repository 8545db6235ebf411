-- How many of each organization's sends are in each status, kept by every creation and status
-- change in its transaction (and by bulk loads, per batch), so that a listing filtered by status
-- alone has its exact total_count in one read per status instead of a count of the matches.
CREATE TABLE send_status_counts (
    org_id  BIGINT NOT NULL,
    status  TEXT   NOT NULL,
    n       BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (org_id, status)
);

INSERT INTO send_status_counts (org_id, status, n)
SELECT org_id, status, count(*) FROM sends GROUP BY org_id, status;
