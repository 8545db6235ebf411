//! The giftwire domain, shared by every entry point (HTTP, CLI, workers) and every store.
//!
//! Values are parsed once at the edge into the types of this crate (`SendStatus`, `Money`,
//! `Currency`, `PageRequest`, `SendGid`, `Email`, ...); the rest of the code relies on them being
//! valid. The lifecycle of a send (CONTRACT.md §6) lives in [`lifecycle`] and nowhere else.

#[macro_use]
mod macros;

pub mod catalog;
pub mod delivery;
pub mod error;
pub mod events;
pub mod feed;
pub mod gid;
pub mod ids;
pub mod lifecycle;
pub mod money;
pub mod page;
pub mod scim;
pub mod seal;
pub mod status;
pub mod store;
pub mod text;
pub mod time;
pub mod token;
pub mod webhooks;

pub use catalog::{DeliveryType, Role, SendKind, SendType, Subtype, UserState};
pub use delivery::{
    Address, AddressCollection, ConfirmVia, Country, Deadline, DeadlineKind, Delivery, MailKind,
    NewMail, ShipTo, TrackingCode, Variant,
};
pub use error::{InvalidValue, StoreError, Unreachable};
pub use feed::{ChangePosition, InvalidCursor, SendFilter};
pub use gid::SendGid;
pub use ids::{AppId, CodeId, OrgId, SendId, TeamId, TokenId, TouchId, UserId};
pub use lifecycle::{LifecycleError, Transition};
pub use money::{Amount, Currency, Money};
pub use page::{PageParamError, PageRequest};
pub use status::SendStatus;
pub use store::Store;
pub use text::{Email, Name};
pub use time::{Clock, OrgTimeZone};
pub use token::{PlainToken, Scope, Scopes, TokenHash};
