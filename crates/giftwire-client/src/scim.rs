//! SCIM 2.0 provisioning (`/api/scim/v2`, scope `scim`, held alone), for the identity
//! provider side: users (list with a filter, search, one, create, replace, patch, delete) and
//! the discovery documents. Bodies of writes are any serializable SCIM resource or `PatchOp`
//! (attributes are open-ended: the enterprise extension, say), sent as JSON.

use reqwest::Method;
use serde::Serialize;

use crate::{Client, Error, api, encode_segment};

/// The parameters of `GET /api/scim/v2/Users` (RFC 7644 §3.4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimQuery {
    /// A SCIM filter, e.g. `userName eq "ada@example.com"`.
    pub filter: Option<String>,
    /// 1-based index of the first result.
    pub start_index: Option<i64>,
    /// Results at most (the server answers 100 at most).
    pub count: Option<i64>,
    /// Attributes to return (all by default).
    pub attributes: Vec<String>,
    /// Attributes not to return.
    pub excluded_attributes: Vec<String>,
}

impl ScimQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(filter) = &self.filter {
            pairs.push(("filter", filter.clone()));
        }
        if let Some(start) = self.start_index {
            pairs.push(("startIndex", start.to_string()));
        }
        if let Some(count) = self.count {
            pairs.push(("count", count.to_string()));
        }
        if !self.attributes.is_empty() {
            pairs.push(("attributes", self.attributes.join(",")));
        }
        if !self.excluded_attributes.is_empty() {
            pairs.push(("excludedAttributes", self.excluded_attributes.join(",")));
        }
        pairs
    }
}

type UserList = api::scim::ListResponse<api::scim::User>;

impl Client {
    /// The organization's users the query selects (`GET /api/scim/v2/Users`).
    pub async fn scim_users(&self, query: &ScimQuery) -> Result<UserList, Error> {
        self.get_json("api/scim/v2/Users", &query.pairs()).await
    }

    /// The same with a `SearchRequest` body (`POST /api/scim/v2/Users/.search`).
    pub async fn scim_search(&self, search: &api::scim::SearchRequest) -> Result<UserList, Error> {
        self.send_json(
            Method::POST,
            "api/scim/v2/Users/.search",
            Some(search),
            None,
        )
        .await
    }

    pub async fn scim_user(&self, id: &str) -> Result<api::scim::User, Error> {
        self.get_json(&format!("api/scim/v2/Users/{}", encode_segment(id)), &[])
            .await
    }

    /// Creates a user from a SCIM User resource; the user as created.
    pub async fn scim_create_user<B: Serialize>(&self, user: &B) -> Result<api::scim::User, Error> {
        self.send_json(Method::POST, "api/scim/v2/Users", Some(user), None)
            .await
    }

    /// Sets the attributes `user` gives (`PUT`); the user afterwards.
    pub async fn scim_replace_user<B: Serialize>(
        &self,
        id: &str,
        user: &B,
    ) -> Result<api::scim::User, Error> {
        let path = format!("api/scim/v2/Users/{}", encode_segment(id));
        self.send_json(Method::PUT, &path, Some(user), None).await
    }

    /// Applies a `PatchOp` message; the user afterwards.
    pub async fn scim_patch_user<B: Serialize>(
        &self,
        id: &str,
        patch: &B,
    ) -> Result<api::scim::User, Error> {
        let path = format!("api/scim/v2/Users/{}", encode_segment(id));
        self.send_json(Method::PATCH, &path, Some(patch), None)
            .await
    }

    /// Deactivates a user (`DELETE`).
    pub async fn scim_delete_user(&self, id: &str) -> Result<(), Error> {
        let url = self.url(&format!("api/scim/v2/Users/{}", encode_segment(id)), &[]);
        self.execute_with(crate::Retry::OnlyTooMany, |http, token| {
            http.delete(url.clone()).bearer_auth(token)
        })
        .await?;
        Ok(())
    }

    /// One of the discovery documents: `ServiceProviderConfig`, `ResourceTypes`,
    /// `ResourceTypes/User`, `Schemas` or `Schemas/<urn>` (RFC 7644 §4), as JSON.
    pub async fn scim_discovery(&self, path: &str) -> Result<serde_json::Value, Error> {
        let path = path.trim_start_matches('/');
        self.get_json(&format!("api/scim/v2/{path}"), &[]).await
    }
}
