//! Organizations, teams, users and touches on PostgreSQL.

use async_trait::async_trait;
use giftwire_core::store::{
    DirectoryStore, NewOrg, NewTouch, NewUser, Org, Team, Touch, TouchDetails, User,
};
use giftwire_core::{Name, OrgId, StoreError, TeamId, TouchId, UserId, UserState};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgConnection;

use super::PgStore;
use super::balances::TEAM_COLUMNS;
use super::errors::{db_err, on_unique};
use super::sends::org_exists;
use crate::records::{self, ORG_COLUMNS, USER_COLUMNS};

pub(super) const TOUCH_COLUMNS: &str = "id, org_id, name, type, subtype, currency, price::text, \
     delivery_type, starts_on::text, ends_on::text, active::int4::int8, ship_to_countries, \
     description, user_id, gift_id, starting_egift_price::text, ending_egift_price::text, \
     hubspot_key, extract(epoch FROM created_at)::int8";

/// Inserts a user with a fresh `key`, in the caller's transaction; the team must be the
/// organization's, the email unused in it.
pub(super) async fn insert_user(
    conn: &mut PgConnection,
    org: OrgId,
    new: &NewUser,
    state: UserState,
) -> Result<User, StoreError> {
    org_exists(conn, org).await?;
    if let Some(team) = new.team {
        sqlx::query("SELECT 1 FROM teams WHERE org_id = $1 AND id = $2")
            .bind(org.get())
            .bind(team.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("Team"))?;
    }
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO users (org_id, team_id, name, first_name, last_name, email, role, state, key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, md5(random()::text || clock_timestamp()::text)) \
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
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| on_unique(e, || records::duplicate_email(new, org)))?;
    records::user(&row)
}

/// Refuses a creator who is not a user of the organization.
pub(super) async fn check_creator(
    conn: &mut PgConnection,
    org: OrgId,
    details: &TouchDetails,
) -> Result<(), StoreError> {
    if let Some(user) = details.created_by {
        sqlx::query("SELECT 1 FROM users WHERE org_id = $1 AND id = $2")
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
impl DirectoryStore for PgStore {
    async fn create_org(&self, new: NewOrg) -> Result<Org, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO organizations (name, time_zone, egift_expiry_days) VALUES ($1, $2, $3) \
             RETURNING {ORG_COLUMNS}"
        )))
        .bind(new.name.as_str())
        .bind(new.time_zone.name())
        .bind(i64::from(new.egift_expiry_days))
        .fetch_one(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        records::org(&row)
    }

    async fn org(&self, org: OrgId) -> Result<Org, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1"
        )))
        .bind(org.get())
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Organization"))?;
        records::org(&row)
    }

    async fn all_orgs(&self) -> Result<Vec<Org>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations ORDER BY id"
        )))
        .fetch_all(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::org).collect()
    }

    async fn create_team(&self, org: OrgId, name: Name) -> Result<Team, StoreError> {
        let mut tx = self.tx().await?;
        org_exists(&mut tx, org).await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO teams (org_id, name) VALUES ($1, $2) RETURNING {TEAM_COLUMNS}"
        )))
        .bind(org.get())
        .bind(name.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let team = records::team(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(team)
    }

    async fn teams(&self, org: OrgId) -> Result<Vec<Team>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TEAM_COLUMNS} FROM teams WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::team).collect()
    }

    async fn team_system_wide(&self, team: TeamId) -> Result<Team, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TEAM_COLUMNS} FROM teams WHERE id = $1"
        )))
        .bind(team.get())
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Team"))?;
        records::team(&row)
    }

    async fn create_user(&self, org: OrgId, new: NewUser) -> Result<User, StoreError> {
        self.write(move |tx| {
            Box::pin(async move { insert_user(tx, org, &new, UserState::Active).await })
        })
        .await
    }

    async fn users(&self, org: OrgId) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::user).collect()
    }

    async fn user_system_wide(&self, user: UserId) -> Result<User, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(user.get())
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("User"))?;
        records::user(&row)
    }

    async fn create_touch(&self, org: OrgId, new: NewTouch) -> Result<Touch, StoreError> {
        let mut tx = self.tx().await?;
        org_exists(&mut tx, org).await?;
        check_creator(&mut tx, org, &new.details).await?;
        let d = &new.details;
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO touches (org_id, name, type, subtype, currency, price, delivery_type, \
                                  starts_on, ends_on, active, ship_to_countries, description, \
                                  user_id, gift_id, starting_egift_price, ending_egift_price, \
                                  hubspot_key) \
             VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8::date, $9::date, $10, $11, $12, $13, \
                     $14, $15::numeric, $16::numeric, $17) \
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
        .bind(new.active)
        .bind(new.ship_to.to_string())
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
        tx.commit().await.map_err(db_err)?;
        Ok(touch)
    }

    async fn touches(&self, org: OrgId) -> Result<Vec<Touch>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::touch).collect()
    }

    async fn touch(&self, org: OrgId, id: TouchId) -> Result<Touch, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE org_id = $1 AND id = $2"
        )))
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Touch"))?;
        records::touch(&row)
    }
}
