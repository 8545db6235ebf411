//! The organization's directory: the token's user, users and invitations, team groups and
//! touches.

use reqwest::Method;

use crate::{Client, Error, Page, api};

impl Client {
    /// The token's user (`GET /api/v3/me`), how integrations check a connection.
    pub async fn me(&self) -> Result<api::users::Me, Error> {
        self.get_json("api/v3/me", &[]).await
    }

    /// A page of the organization's active users (`GET /api/v3/users`).
    pub async fn users(&self, page: Page) -> Result<api::users::UserList, Error> {
        self.get_json("api/v3/users", &page.pairs()).await
    }

    /// One user of the organization (`GET /api/v3/users/{id}`).
    pub async fn user(&self, id: i64) -> Result<api::users::User, Error> {
        self.get_json(&format!("api/v3/users/{id}"), &[]).await
    }

    /// Invite New User (`POST /api/v3/users`, scope update).
    pub async fn invite_user(
        &self,
        user: &api::users::NewUser,
    ) -> Result<api::users::Invited, Error> {
        let body = api::users::Invite { user: user.clone() };
        self.send_json(Method::POST, "api/v3/users", Some(&body), None)
            .await
    }

    /// A page of the organization's team groups (`GET /api/v3/groups`).
    pub async fn groups(&self, page: Page) -> Result<api::groups::GroupList, Error> {
        self.get_json("api/v3/groups", &page.pairs()).await
    }

    /// A team group's active users (`GET /api/v3/groups/{id}/members`).
    pub async fn group_members(&self, id: i64) -> Result<Vec<api::groups::Member>, Error> {
        self.get_json(&format!("api/v3/groups/{id}/members"), &[])
            .await
    }

    /// A page of active touches (`GET /api/v3/touches`), of one delivery type (`mail`,
    /// `email`) when given.
    pub async fn touches(
        &self,
        page: Page,
        delivery_type: Option<&str>,
    ) -> Result<api::touches::TouchList, Error> {
        let mut pairs = page.pairs();
        if let Some(kind) = delivery_type {
            pairs.push(("delivery_type", kind.to_owned()));
        }
        self.get_json("api/v3/touches", &pairs).await
    }

    /// One active touch (`GET /api/v3/touches/{id}`).
    pub async fn touch(&self, id: i64) -> Result<api::touches::Touch, Error> {
        let shown: api::touches::TouchShown =
            self.get_json(&format!("api/v3/touches/{id}"), &[]).await?;
        Ok(shown.touch)
    }
}
