//! Webhook endpoints (scope update) and their deliveries.

use reqwest::Method;

use crate::{Client, Error, Page, Retry, api};

impl Client {
    /// A page of the organization's webhook endpoints (`GET /api/v3/webhook_endpoints`, scope
    /// update).
    pub async fn webhook_endpoints(
        &self,
        page: Page,
    ) -> Result<api::webhooks::EndpointList, Error> {
        self.get_json("api/v3/webhook_endpoints", &page.pairs())
            .await
    }

    /// A new webhook endpoint, with its signing secret (shown only now).
    pub async fn create_webhook_endpoint(
        &self,
        endpoint: &api::webhooks::NewEndpoint,
    ) -> Result<api::webhooks::CreatedEndpoint, Error> {
        self.send_json(
            Method::POST,
            "api/v3/webhook_endpoints",
            Some(endpoint),
            None,
        )
        .await
    }

    pub async fn webhook_endpoint(&self, id: i64) -> Result<api::webhooks::WebhookEndpoint, Error> {
        self.get_json(&format!("api/v3/webhook_endpoints/{id}"), &[])
            .await
    }

    /// Changes what `changes` gives of an endpoint; the endpoint afterwards.
    pub async fn update_webhook_endpoint(
        &self,
        id: i64,
        changes: &api::webhooks::EndpointChanges,
    ) -> Result<api::webhooks::WebhookEndpoint, Error> {
        let path = format!("api/v3/webhook_endpoints/{id}");
        self.send_json(Method::PATCH, &path, Some(changes), None)
            .await
    }

    /// Deletes an endpoint and its deliveries.
    pub async fn delete_webhook_endpoint(&self, id: i64) -> Result<(), Error> {
        let url = self.url(&format!("api/v3/webhook_endpoints/{id}"), &[]);
        self.execute_with(Retry::OnlyTooMany, |http, token| {
            http.delete(url.clone()).bearer_auth(token)
        })
        .await?;
        Ok(())
    }

    /// A new signing secret; the previous one keeps signing for 24 hours.
    pub async fn rotate_webhook_secret(
        &self,
        id: i64,
    ) -> Result<api::webhooks::RotatedSecret, Error> {
        let path = format!("api/v3/webhook_endpoints/{id}/rotate_secret");
        self.send_json::<(), _>(Method::POST, &path, None, None)
            .await
    }

    /// A page of an endpoint's deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        id: i64,
        page: Page,
    ) -> Result<api::webhooks::DeliveryList, Error> {
        self.get_json(
            &format!("api/v3/webhook_endpoints/{id}/deliveries"),
            &page.pairs(),
        )
        .await
    }
}
