//! `giftwire demo`: the one-command start (CONTRACT.md §8). It creates two organizations in
//! different time zones with teams, users, touches and sends (or reuses them when they exist),
//! makes a token, registers an OAuth application and gives a user a password, prints them with
//! ready curl lines and the authorize URL, and serves.

use anyhow::Result;
use giftwire_core::store::{NewOrg, NewToken, Org, User};
use giftwire_core::{Name, OrgTimeZone, PlainToken, Scopes, Store};

use crate::seed;

/// (name, time zone, sends) of the demo organizations.
const ORGS: &[(&str, &str, u64)] = &[
    ("Acme Corp (demo)", "America/Los_Angeles", 1_200),
    ("Globex (demo)", "Europe/London", 300),
];

/// What the demo prints once its data is ready.
pub struct Demo {
    pub org: Org,
    pub token: PlainToken,
    pub scopes: Scopes,
    pub total_sends: u64,
    pub oauth: DemoOAuth,
}

/// The demo's OAuth application and the user who can sign in to authorize it.
pub struct DemoOAuth {
    pub client_id: String,
    pub client_secret: String,
    pub email: String,
    pub password: String,
}

/// The demo application's name and redirect URIs (out of band, a local callback, Postman's).
const DEMO_APP: &str = "Demo integration";
const DEMO_REDIRECT_URIS: &[&str] = &[
    giftwire_server::oauth::OOB,
    "http://127.0.0.1:8080/oauth/callback",
    "https://oauth.pstmn.io/v1/callback",
];

/// Registers the demo application afresh (secrets are shown once, so an earlier one, whose
/// secret nobody can print again, is revoked) and gives the demo user a new password.
async fn prepare_oauth(store: &dyn Store, org: &Org, user: &User) -> Result<DemoOAuth> {
    for app in store.apps(org.id).await? {
        if app.name == DEMO_APP && app.revoked_at.is_none() {
            store
                .revoke_app(&app.client_id, jiff::Timestamp::now())
                .await?;
        }
    }
    let registered = giftwire_server::oauth::register_app(
        store,
        org.id,
        DEMO_APP,
        DEMO_REDIRECT_URIS.iter().map(|s| (*s).to_owned()).collect(),
        Scopes::parse("public write")?,
        true,
    )
    .await?;
    let password = format!("demo-{}", &PlainToken::generate().expose()[3..15]);
    giftwire_server::oauth::set_password(store, user.id, &password).await?;
    Ok(DemoOAuth {
        client_id: registered.app.client_id,
        client_secret: registered.client_secret.unwrap_or_default(),
        email: user.email.clone(),
        password,
    })
}

/// Makes sure the demo data exists and returns a fresh token of the first organization.
pub async fn prepare(store: &dyn Store) -> Result<Demo> {
    let existing = store.all_orgs().await?;
    let mut first = None;
    let mut total_sends = 0;
    for (i, (name, tz, sends)) in ORGS.iter().enumerate() {
        let org = match existing.iter().find(|o| o.name == *name) {
            Some(org) => org.clone(),
            None => {
                store
                    .create_org(NewOrg {
                        name: Name::parse("name", name)?,
                        time_zone: OrgTimeZone::parse(tz)?,
                        egift_expiry_days: NewOrg::DEFAULT_EGIFT_EXPIRY_DAYS,
                    })
                    .await?
            }
        };
        if org.send_count == 0 {
            tracing::info!(org = %org.id, sends, "seeding demo organization");
            seed::run(store, org.id, *sends, 42 + i as u64, false).await?;
        }
        let org = store.org(org.id).await?;
        total_sends += org.send_count;
        first.get_or_insert(org);
    }
    let org = first.expect("ORGS is not empty");
    let user = store.users(org.id).await?.into_iter().next();
    let user = user.ok_or_else(|| anyhow::anyhow!("demo organization {} has no users", org.id))?;
    let scopes = Scopes::parse("public write fulfillment")?;
    let token = PlainToken::generate();
    store
        .create_token(NewToken {
            user: user.id,
            hash: token.hash(),
            scopes,
            expires_at: None,
        })
        .await?;
    let oauth = prepare_oauth(store, &org, &user).await?;
    Ok(Demo {
        org,
        token,
        scopes,
        total_sends,
        oauth,
    })
}
