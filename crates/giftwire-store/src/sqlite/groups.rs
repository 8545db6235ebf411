//! Team groups as the API lists them, on SQLite.

use async_trait::async_trait;
use giftwire_core::store::{Group, GroupStore, Listed, User};
use giftwire_core::{Money, OrgId, PageRequest, StoreError, TeamId};
use sqlx::AssertSqlSafe;

use super::SqliteStore;
use super::balances::TEAM_COLUMNS;
use super::errors::db_err;
use crate::records::{self, USER_COLUMNS};
use crate::rows::RowExt;

/// The summed balance of a team's active users, as a column after the team's.
const MEMBERS_BALANCE: &str = "(SELECT COALESCE(SUM(balance_units), 0) FROM users u \
     WHERE u.org_id = teams.org_id AND u.team_id = teams.id AND u.state = 'active')";

#[async_trait]
impl GroupStore for SqliteStore {
    async fn groups(&self, org: OrgId, page: PageRequest) -> Result<Listed<Group>, StoreError> {
        let mut tx = self.read_tx().await?;
        let total = sqlx::query("SELECT count(*) FROM teams WHERE org_id = ?1")
            .bind(org.get())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?
            .int(0)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TEAM_COLUMNS}, {MEMBERS_BALANCE} FROM teams WHERE org_id = ?1 \
             ORDER BY id LIMIT ?2 OFFSET ?3"
        )))
        .bind(org.get())
        .bind(i64::from(page.per_page()))
        .bind(page.offset() as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(Group {
                    team: records::team(row)?,
                    balance: records::money_units(row, records::TEAM_COLUMN_COUNT)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Listed {
            total: total as u64,
            items,
        })
    }

    async fn group_members(&self, org: OrgId, team: TeamId) -> Result<Vec<User>, StoreError> {
        let mut tx = self.read_tx().await?;
        sqlx::query("SELECT 1 FROM teams WHERE org_id = ?1 AND id = ?2")
            .bind(org.get())
            .bind(team.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("Group"))?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = ?1 AND team_id = ?2 \
             AND state = 'active' ORDER BY id"
        )))
        .bind(org.get())
        .bind(team.get())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        rows.iter().map(records::user).collect()
    }

    async fn team_balance(&self, org: OrgId, team: TeamId) -> Result<Money, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(balance_units), 0) FROM users \
             WHERE org_id = ?1 AND team_id = ?2 AND state = 'active'",
        )
        .bind(org.get())
        .bind(team.get())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        records::money_units(&row, 0)
    }
}
