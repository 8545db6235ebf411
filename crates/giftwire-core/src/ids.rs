//! Identifiers. Each is its own type so that an organization id is never passed as a user id.
//!
//! An [`OrgId`] is what every tenant-scoped store function takes; the server only ever builds one
//! from an authenticated principal, and the admin CLI from its `--org` argument.

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> Self {
                $name(id)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An organization: the tenant. Nothing of one organization is visible to another.
    OrgId
);
id_type!(
    /// A team (team group) of an organization.
    TeamId
);
id_type!(
    /// A user of an organization.
    UserId
);
id_type!(
    /// A touch (campaign) of an organization.
    TouchId
);
id_type!(
    /// A send: unique across all organizations and increasing in creation order.
    SendId
);
id_type!(
    /// An API token (never the token itself).
    TokenId
);
id_type!(
    /// An OAuth application (client) of an organization; its public name is its `client_id`.
    AppId
);
id_type!(
    /// An OAuth authorization code (never the code itself). Every token obtained from a code,
    /// and from its refreshes, remembers it: they are one family, revoked together.
    CodeId
);
