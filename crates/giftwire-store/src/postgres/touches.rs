//! Touches as the API lists them, and their details, on PostgreSQL.

use async_trait::async_trait;
use giftwire_core::store::{Listed, Touch, TouchDetails, TouchStore};
use giftwire_core::{DeliveryType, OrgId, PageRequest, StoreError, TouchId, UserId};
use sqlx::AssertSqlSafe;

use super::PgStore;
use super::directory::{TOUCH_COLUMNS, check_creator};
use super::errors::db_err;
use crate::records;
use crate::rows::RowExt;

#[async_trait]
impl TouchStore for PgStore {
    async fn active_touches(
        &self,
        org: OrgId,
        page: PageRequest,
        delivery: Option<DeliveryType>,
    ) -> Result<Listed<Touch>, StoreError> {
        // $2 is the delivery type, or NULL for every one.
        let filter = "org_id = $1 AND active AND ($2::text IS NULL OR delivery_type = $2)";
        let delivery = delivery.map(DeliveryType::as_str);
        let mut tx = self.read_snapshot().await?;
        let total = sqlx::query(AssertSqlSafe(format!(
            "SELECT count(*) FROM touches WHERE {filter}"
        )))
        .bind(org.get())
        .bind(delivery)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?
        .int(0)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE {filter} ORDER BY id LIMIT $3 OFFSET $4"
        )))
        .bind(org.get())
        .bind(delivery)
        .bind(i64::from(page.per_page()))
        .bind(page.offset() as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Listed {
            total: total as u64,
            items: rows.iter().map(records::touch).collect::<Result<_, _>>()?,
        })
    }

    async fn touch_system_wide(&self, id: TouchId) -> Result<Touch, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE id = $1"
        )))
        .bind(id.get())
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Touch"))?;
        records::touch(&row)
    }

    async fn set_touch_details(
        &self,
        org: OrgId,
        id: TouchId,
        details: TouchDetails,
        active: bool,
    ) -> Result<Touch, StoreError> {
        self.write(move |tx| {
                Box::pin(async move {
                    check_creator(tx, org, &details).await?;
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "UPDATE touches SET description = $3, user_id = $4, gift_id = $5, \
                                starting_egift_price = $6::numeric, ending_egift_price = $7::numeric, \
                                hubspot_key = $8, active = $9 \
                         WHERE org_id = $1 AND id = $2 RETURNING {TOUCH_COLUMNS}"
                    )))
                    .bind(org.get())
                    .bind(id.get())
                    .bind(&details.description)
                    .bind(details.created_by.map(UserId::get))
                    .bind(details.gift_id)
                    .bind(details.egift_prices.map(|(low, _)| low.to_string()))
                    .bind(details.egift_prices.map(|(_, high)| high.to_string()))
                    .bind(details.hubspot_key.as_deref())
                    .bind(active)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .ok_or(StoreError::NotFound("Touch"))?;
                    records::touch(&row)
                })
            })
            .await
    }
}
