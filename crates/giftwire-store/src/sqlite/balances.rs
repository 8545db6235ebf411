//! Balances, team budgets and the ledger on SQLite. A movement is one `INSERT` into the ledger
//! that checks the balance covers it; the ledger's trigger moves the
//! balance, so a balance changes only with a movement.

use async_trait::async_trait;
use giftwire_core::store::{BalanceStore, Movement, NewMovement, Team, TeamBudget};
use giftwire_core::{Money, OrgId, SendId, StoreError, TeamId, UserId};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use sqlx::sqlite::SqliteConnection;

use super::SqliteStore;
use super::errors::db_err;
use crate::records;

/// The columns of [`records::movement`] on SQLite.
const MOVEMENT_COLUMNS: &str =
    "id, user_id, kind, amount_units, balance_units, send_id, note, created_at";

/// The columns of [`records::team`] on SQLite.
pub(super) const TEAM_COLUMNS: &str = "id, org_id, name, created_at, COALESCE(updated_at, created_at), \
     monthly_budget_units, one_time_budget_units, rollover";

/// Records a movement, which moves its user's balance (a trigger of the ledger table); a draw
/// the balance cannot cover is `Refused` and changes nothing. One statement: the user's row is
/// read by the insert that checks it.
pub(super) async fn apply_movement(
    conn: &mut SqliteConnection,
    org: OrgId,
    m: &NewMovement,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "INSERT INTO balance_movements (org_id, user_id, kind, amount_units, balance_units, \
                                        send_id, note, created_at) \
         SELECT ?1, ?2, ?3, ?4, balance_units + ?4, ?5, ?6, ?7 FROM users \
         WHERE org_id = ?1 AND id = ?2 \
           AND balance_units + ?4 BETWEEN 0 AND ?8",
    )
    .bind(org.get())
    .bind(m.user.get())
    .bind(m.kind.as_str())
    .bind(m.amount.units())
    .bind(m.send.map(SendId::get))
    .bind(m.note.as_deref())
    .bind(m.at.as_second())
    .bind(NewMovement::MAX_BALANCE.units())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    // The user is not the organization's, or the balance cannot cover the draw.
    let row = sqlx::query("SELECT balance_units FROM users WHERE org_id = ?1 AND id = ?2")
        .bind(org.get())
        .bind(m.user.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("User"))?;
    Err(m.refusal(records::money_units(&row, 0)?))
}

/// The user's latest movement (the one just applied, in the caller's transaction).
async fn last_movement(
    conn: &mut SqliteConnection,
    org: OrgId,
    user: UserId,
) -> Result<Movement, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {MOVEMENT_COLUMNS} FROM balance_movements \
         WHERE org_id = ?1 AND user_id = ?2 ORDER BY id DESC LIMIT 1"
    )))
    .bind(org.get())
    .bind(user.get())
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    records::movement(&row)
}

#[async_trait]
impl BalanceStore for SqliteStore {
    async fn fund(
        &self,
        org: OrgId,
        movements: Vec<NewMovement>,
    ) -> Result<Vec<Movement>, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let mut done = Vec::with_capacity(movements.len());
                    for m in &movements {
                        apply_movement(tx, org, m).await?;
                        done.push(last_movement(tx, org, m.user).await?);
                    }
                    Ok(done)
                })
            })
            .await
    }

    async fn ledger(&self, org: OrgId, user: UserId) -> Result<(Money, Vec<Movement>), StoreError> {
        let mut tx = self.read_tx().await?;
        let balance = sqlx::query("SELECT balance_units FROM users WHERE org_id = ?1 AND id = ?2")
            .bind(org.get())
            .bind(user.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("User"))?;
        let balance = records::money_units(&balance, 0)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {MOVEMENT_COLUMNS} FROM balance_movements \
             WHERE org_id = ?1 AND user_id = ?2 ORDER BY id"
        )))
        .bind(org.get())
        .bind(user.get())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        let movements = rows
            .iter()
            .map(records::movement)
            .collect::<Result<_, _>>()?;
        Ok((balance, movements))
    }

    async fn set_team_budget(
        &self,
        org: OrgId,
        team: TeamId,
        budget: TeamBudget,
        at: Timestamp,
    ) -> Result<Team, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "UPDATE teams SET monthly_budget_units = ?3, one_time_budget_units = ?4, \
                                          rollover = ?5, updated_at = ?6 \
                         WHERE org_id = ?1 AND id = ?2 RETURNING {TEAM_COLUMNS}"
                    )))
                    .bind(org.get())
                    .bind(team.get())
                    .bind(budget.monthly.units())
                    .bind(budget.one_time.units())
                    .bind(i64::from(budget.rollover))
                    .bind(at.as_second())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .ok_or(StoreError::NotFound("Team"))?;
                    records::team(&row)
                })
            })
            .await
    }
}
