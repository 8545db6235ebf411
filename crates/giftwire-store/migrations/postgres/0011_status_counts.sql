-- How many of each organization's sends of each touch are in each status, kept by every creation
-- and status change in its transaction (and by bulk loads, per batch), so that a listing
-- filtered by status, touch or type alone, or by these together, has its exact total_count by
-- summing a few rows instead of counting the matching sends.
CREATE TABLE send_status_counts (
    org_id    BIGINT NOT NULL,
    touch_id  BIGINT NOT NULL,
    status    TEXT   NOT NULL,
    n         BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (org_id, touch_id, status)
);

INSERT INTO send_status_counts (org_id, touch_id, status, n)
SELECT org_id, touch_id, status, count(*) FROM sends GROUP BY org_id, touch_id, status;
