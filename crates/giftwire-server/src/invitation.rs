//! Inviting a user, the same from the API (`POST /api/v3/users`) and the CLI (`user invite`):
//! an invited user, its invitation (a fresh token, stored as its hash) and the mail with the
//! link, written in one transaction.

use giftwire_core::store::{NewInvitation, NewUser, User};
use giftwire_core::{OrgId, PlainToken, Store, StoreError};
use jiff::Timestamp;

use crate::mail;

/// How long an invitation can be accepted.
pub const INVITATION_DAYS: i64 = 7;

/// What an invitation made: the invited user, the link (its only credential, shown once) and
/// when it expires.
#[derive(Debug)]
pub struct Invited {
    pub user: User,
    pub link: String,
    pub expires_at: Timestamp,
}

/// Invites `new` to `org` on behalf of `inviter` (a name for the mail); `public_url` is where
/// the invited user reaches this server.
pub async fn invite(
    store: &dyn Store,
    org: OrgId,
    new: NewUser,
    inviter: &str,
    public_url: &url::Url,
    now: Timestamp,
) -> Result<Invited, StoreError> {
    let org_name = store.org(org).await?.name;
    let token = PlainToken::generate();
    let link = mail::Links::new(public_url).invitation(token.expose());
    let expires_at = now + jiff::SignedDuration::from_hours(24 * INVITATION_DAYS);
    let invitation = NewInvitation {
        mail: mail::invitation(
            new.email.as_str(),
            &new.first_name,
            inviter,
            &org_name,
            &link,
            INVITATION_DAYS,
        ),
        user: new,
        token_hash: token.hash(),
        created_at: now,
        expires_at,
    };
    let user = store.invite(org, invitation).await?;
    Ok(Invited {
        user,
        link,
        expires_at,
    })
}
