//! The store: every read and write of the service, one method per operation, each its own
//! transaction, in one trait per resource ([`DirectoryStore`], [`TokenStore`], [`SendStore`],
//! [`DeadlineStore`], [`OutboxStore`], [`AccountStore`], [`OAuthStore`], [`BalanceStore`], [`UserStore`], [`GroupStore`], [`TouchStore`], [`InvitationStore`], [`ScimStore`], [`EventStore`], [`WebhookStore`], [`SendFeedStore`]). [`Store`] is all of
//! them, implemented for every type that implements each; it is what the server holds.
//! Tenant-scoped methods take an [`OrgId`](crate::OrgId) first; the few that are not (admin
//! lookups by a global id, authentication, the worker's) say so in their names and docs.
//!
//! Row types here are the domain's view of the data, separate from the wire types of
//! `giftwire-api`.

mod accounts;
mod balances;
mod deadlines;
mod directory;
mod events;
mod feed;
mod groups;
mod invitations;
mod oauth;
mod outbox;
mod scim;
mod sends;
mod tokens;
mod touches;
mod users;
mod webhooks;

pub use accounts::{AccountStore, NewSession, PasswordUser};
pub use balances::{BalanceStore, Movement, MovementKind, NewMovement, TeamBudget};
pub use deadlines::DeadlineStore;
pub use directory::{
    DirectoryStore, NewOrg, NewTouch, NewUser, Org, Team, Touch, TouchDetails, User,
};
pub use events::{EventStore, SendEvent};
pub use feed::{ExportChunk, FilteredPage, SendChange, SendFeedStore};
pub use groups::{Group, GroupStore};
pub use invitations::{Invitation, InvitationStatus, InvitationStore, NewInvitation};
pub use oauth::{App, Code, Exchanged, NewApp, NewCode, NewOAuthToken, OAuthStore, RefreshGrant};
pub use outbox::{Mail, OutboxStore};
pub use scim::{ScimEmail, ScimStore, ScimUser, ScimUserData, UserType};
pub use sends::{
    BulkLoaded, Created, CreatedSend, IdempotencyClaim, NewSend, PageVersion, Recipient,
    RecipientSend, SeedSend, SendOrder, SendPage, SendRecord, SendStore, SenderRef, TouchRef,
};
pub use tokens::{NewToken, Principal, TokenInfo, TokenStore};
pub use touches::TouchStore;
pub use users::{Listed, UserStore};
pub use webhooks::{
    Attempt, DeliveryState, DisabledReason, DueDelivery, Endpoint, EndpointChanges, NewEndpoint,
    SECRET_PURPOSE, WebhookDelivery, WebhookStore,
};

/// A whole store: every resource's trait. Implemented for every type that implements them all,
/// so a backend implements each trait (one file each) and never this one.
pub trait Store:
    DirectoryStore
    + TokenStore
    + SendStore
    + DeadlineStore
    + OutboxStore
    + AccountStore
    + OAuthStore
    + BalanceStore
    + UserStore
    + GroupStore
    + TouchStore
    + InvitationStore
    + ScimStore
    + EventStore
    + WebhookStore
    + SendFeedStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: DirectoryStore
        + TokenStore
        + SendStore
        + DeadlineStore
        + OutboxStore
        + AccountStore
        + OAuthStore
        + BalanceStore
        + UserStore
        + GroupStore
        + TouchStore
        + InvitationStore
        + ScimStore
        + EventStore
        + WebhookStore
        + SendFeedStore
        + Send
        + Sync
        + 'static
{
}
