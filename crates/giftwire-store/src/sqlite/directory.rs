//! Organizations, teams, users and touches on SQLite.

use async_trait::async_trait;
use giftwire_core::store::{
    DirectoryStore, NewOrg, NewTouch, NewUser, Org, Team, Touch, TouchDetails, User,
};
use giftwire_core::{Name, OrgId, StoreError, TeamId, TouchId, UserId, UserState};
use sqlx::AssertSqlSafe;
use sqlx::sqlite::SqliteConnection;

use super::balances::TEAM_COLUMNS;
use super::errors::{db_err, on_unique};
use super::sends::org_exists;
use super::{SqliteStore, now_secs};
use crate::records::{self, ORG_COLUMNS, USER_COLUMNS};

pub(super) const TOUCH_COLUMNS: &str = "id, org_id, name, type, subtype, currency, price, \
     delivery_type, starts_on, ends_on, active, ship_to_countries, description, user_id, gift_id, \
     starting_egift_price, ending_egift_price, hubspot_key, created_at";

/// Inserts a user with a fresh `key`, in the caller's transaction; the team must be the
/// organization's, the email unused in it.
pub(super) async fn insert_user(
    conn: &mut SqliteConnection,
    org: OrgId,
    new: &NewUser,
    state: UserState,
) -> Result<User, StoreError> {
    org_exists(conn, org).await?;
    if let Some(team) = new.team {
        sqlx::query("SELECT 1 FROM teams WHERE org_id = ?1 AND id = ?2")
            .bind(org.get())
            .bind(team.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("Team"))?;
    }
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO users (org_id, team_id, name, first_name, last_name, email, role, state, key, \
                            created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, lower(hex(randomblob(16))), ?9) \
         RETURNING {USER_COLUMNS}"
    )))
    .bind(org.get())
    .bind(new.team.map(TeamId::get))
    .bind(new.name.as_str())
    .bind(&new.first_name)
    .bind(&new.last_name)
    .bind(new.email.as_str())
    .bind(new.role.as_str())
    .bind(state.as_str())
    .bind(now_secs())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| on_unique(e, || records::duplicate_email(new, org)))?;
    records::user(&row)
}

/// Refuses a creator who is not a user of the organization.
pub(super) async fn check_creator(
    conn: &mut SqliteConnection,
    org: OrgId,
    details: &TouchDetails,
) -> Result<(), StoreError> {
    if let Some(user) = details.created_by {
        sqlx::query("SELECT 1 FROM users WHERE org_id = ?1 AND id = ?2")
            .bind(org.get())
            .bind(user.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("User"))?;
    }
    Ok(())
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn create_org(&self, new: NewOrg) -> Result<Org, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO organizations (name, time_zone, egift_expiry_days, created_at) \
                         VALUES (?1, ?2, ?3, ?4) RETURNING {ORG_COLUMNS}"
                    )))
                    .bind(new.name.as_str())
                    .bind(new.time_zone.name())
                    .bind(i64::from(new.egift_expiry_days))
                    .bind(now_secs())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    records::org(&row)
                })
            })
            .await
    }

    async fn org(&self, org: OrgId) -> Result<Org, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations WHERE id = ?1"
        )))
        .bind(org.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Organization"))?;
        records::org(&row)
    }

    async fn all_orgs(&self) -> Result<Vec<Org>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::org).collect()
    }

    async fn create_team(&self, org: OrgId, name: Name) -> Result<Team, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
        org_exists(tx, org).await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO teams (org_id, name, created_at) VALUES (?1, ?2, ?3) RETURNING {TEAM_COLUMNS}"
        )))
        .bind(org.get())
        .bind(name.as_str())
        .bind(now_secs())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let team = records::team(&row)?;
        Ok(team)
                })
            })
            .await
    }

    async fn teams(&self, org: OrgId) -> Result<Vec<Team>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TEAM_COLUMNS} FROM teams WHERE org_id = ?1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::team).collect()
    }

    async fn team_system_wide(&self, team: TeamId) -> Result<Team, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TEAM_COLUMNS} FROM teams WHERE id = ?1"
        )))
        .bind(team.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Team"))?;
        records::team(&row)
    }

    async fn create_user(&self, org: OrgId, new: NewUser) -> Result<User, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move { insert_user(tx, org, &new, UserState::Active).await })
            })
            .await
    }

    async fn users(&self, org: OrgId) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = ?1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::user).collect()
    }

    async fn user_system_wide(&self, user: UserId) -> Result<User, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = ?1"
        )))
        .bind(user.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("User"))?;
        records::user(&row)
    }

    async fn create_touch(&self, org: OrgId, new: NewTouch) -> Result<Touch, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    org_exists(tx, org).await?;
                    check_creator(tx, org, &new.details).await?;
                    let d = &new.details;
                    let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO touches (org_id, name, type, subtype, currency, price, delivery_type, \
                                  starts_on, ends_on, active, ship_to_countries, created_at, \
                                  description, user_id, gift_id, starting_egift_price, \
                                  ending_egift_price, hubspot_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
             RETURNING {TOUCH_COLUMNS}"
        )))
        .bind(org.get())
        .bind(new.name.as_str())
        .bind(new.send_type.as_str())
        .bind(new.subtype.as_str())
        .bind(new.currency.as_str())
        .bind(new.price.to_string())
        .bind(new.delivery_type.as_str())
        .bind(new.starts_on.map(|d| d.to_string()))
        .bind(new.ends_on.map(|d| d.to_string()))
        .bind(i64::from(new.active))
        .bind(new.ship_to.to_string())
        .bind(now_secs())
        .bind(&d.description)
        .bind(d.created_by.map(UserId::get))
        .bind(d.gift_id)
        .bind(d.egift_prices.map(|(low, _)| low.to_string()))
        .bind(d.egift_prices.map(|(_, high)| high.to_string()))
        .bind(d.hubspot_key.as_deref())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
                    let touch = records::touch(&row)?;
                    Ok(touch)
                })
            })
            .await
    }

    async fn touches(&self, org: OrgId) -> Result<Vec<Touch>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE org_id = ?1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::touch).collect()
    }

    async fn touch(&self, org: OrgId, id: TouchId) -> Result<Touch, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE org_id = ?1 AND id = ?2"
        )))
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Touch"))?;
        records::touch(&row)
    }
}
