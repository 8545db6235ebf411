//! `giftwire demo`: the one-command start (CONTRACT.md §8). It creates two organizations in
//! different time zones with teams, users, touches and sends (or reuses them when they exist),
//! makes a token, prints it with a ready curl line, and serves.

use anyhow::Result;
use giftwire_core::store::{NewOrg, NewToken, Org};
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
    Ok(Demo {
        org,
        token,
        scopes,
        total_sends,
    })
}
