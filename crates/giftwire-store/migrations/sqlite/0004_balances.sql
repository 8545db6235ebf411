-- Balances: what each user may still spend, the budgets of team groups, and the ledger of every
-- movement. Amounts are INTEGER ten-thousandths (giftwire_core::Money::units), so that SQLite
-- adds them up exactly; a balance is the sum of its user's movements and never negative.

ALTER TABLE users ADD COLUMN balance_units INTEGER NOT NULL DEFAULT 0 CHECK (balance_units >= 0);

ALTER TABLE teams ADD COLUMN monthly_budget_units INTEGER NOT NULL DEFAULT 0
    CHECK (monthly_budget_units >= 0);
ALTER TABLE teams ADD COLUMN one_time_budget_units INTEGER NOT NULL DEFAULT 0
    CHECK (one_time_budget_units >= 0);
ALTER TABLE teams ADD COLUMN rollover INTEGER NOT NULL DEFAULT 0 CHECK (rollover IN (0, 1));
ALTER TABLE teams ADD COLUMN updated_at INTEGER;

CREATE TABLE balance_movements (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    kind           TEXT    NOT NULL
        CHECK (kind IN ('opening', 'fund', 'send', 'cost_change', 'credit')),
    -- Signed: credits are positive, draws negative.
    amount_units   INTEGER NOT NULL,
    -- The user's balance right after this movement.
    balance_units  INTEGER NOT NULL CHECK (balance_units >= 0),
    send_id        INTEGER REFERENCES sends (id),
    note           TEXT,
    created_at     INTEGER NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX balance_movements_user ON balance_movements (org_id, user_id, id);

-- A balance changes only by a movement: inserting one moves its user's balance by its amount,
-- in the same statement (the insert itself checks that a draw leaves the balance >= 0).
CREATE TRIGGER balance_movements_apply AFTER INSERT ON balance_movements
BEGIN
    UPDATE users SET balance_units = balance_units + NEW.amount_units
    WHERE org_id = NEW.org_id AND id = NEW.user_id;
END;

-- Sends made before balances existed: each sender is funded with what its sends cost now, and
-- those sends are drawn at once, so every balance starts at 0 and equals its ledger.
INSERT INTO balance_movements (org_id, user_id, kind, amount_units, balance_units, note, created_at)
SELECT org_id, sender_id, 'opening', total, total,
       'funds the sends made before balances existed', CAST(strftime('%s', 'now') AS INTEGER)
FROM (SELECT org_id, sender_id,
             SUM(CAST(ROUND(CAST(cost AS REAL) * 10000) AS INTEGER)) AS total
      FROM sends GROUP BY org_id, sender_id);
INSERT INTO balance_movements (org_id, user_id, kind, amount_units, balance_units, note, created_at)
SELECT org_id, user_id, 'send', -amount_units, 0,
       'the sends made before balances existed', created_at
FROM balance_movements WHERE kind = 'opening' ORDER BY id;
