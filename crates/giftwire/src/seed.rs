//! `giftwire seed`: realistic synthetic sends for an organization. Teams, users and touches are
//! created when the organization has none; every history is walked through the core lifecycle,
//! so a seeded database holds only what the service itself could have produced.

use std::time::Instant;

use anyhow::{Result, bail};
use giftwire_core::lifecycle::{self, SendState, StatusChange, StatusEntry};
use giftwire_core::store::{
    MovementKind, NewMovement, NewSend, NewTouch, NewUser, Recipient, SeedSend, Touch, User,
};
use giftwire_core::{
    Amount, Currency, Email, Money, Name, OrgId, Role, SendKind, SendStatus, SendType, Store,
    Subtype,
};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// Sends generated and written per batch.
const BATCH: usize = 10_000;

const FIRST_NAMES: &[&str] = &[
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "Lucas",
    "Isabella",
    "Mason",
    "Mia",
    "Ethan",
    "Harper",
    "Logan",
    "Amelia",
    "Aiden",
    "Evelyn",
    "Jackson",
    "Abigail",
    "Levi",
    "Grace",
    "Samuel",
    "Chloé",
    "Mateo",
    "Zoë",
    "Renée",
    "Björn",
    "Ingrid",
    "Hiroshi",
    "Mei",
    "Arjun",
    "Ananya",
    "Kofi",
    "Ngozi",
    "Diego",
    "Lucía",
    "Tomasz",
    "Agnieszka",
    "Søren",
    "Anaïs",
    "Omar",
    "Leila",
    "Dmitri",
    "Katya",
    "Seo-yeon",
    "Minh",
    "Thandiwe",
    "Rafael",
];
const LAST_NAMES: &[&str] = &[
    "Anderson",
    "Bennett",
    "Carter",
    "Dawson",
    "Ellis",
    "Foster",
    "Gallagher",
    "Hughes",
    "Iverson",
    "Jensen",
    "Keller",
    "Lambert",
    "Morales",
    "Nakamura",
    "O'Connor",
    "Patel",
    "Quinn",
    "Reyes",
    "Schneider",
    "Tanaka",
    "Underwood",
    "Vasquez",
    "Whitaker",
    "Xu",
    "Yamamoto",
    "Zimmermann",
    "da Silva",
    "van Dijk",
    "Okonkwo",
    "Kowalczyk",
    "Lindqvist",
    "Dubois",
    "Rossi",
    "Novak",
    "Fernández",
    "Sharma",
    "Haddad",
    "Mbeki",
    "Sato",
    "Brennan",
];
const COMPANIES: &[&str] = &[
    "Northwind Labs",
    "Bluefin Analytics",
    "Copperleaf Health",
    "Driftwood Logistics",
    "Evergreen Capital",
    "Foxglove Software",
    "Granite Peak Insurance",
    "Harborview Media",
    "Ironbark Manufacturing",
    "Juniper Retail",
    "Kestrel Security",
    "Lighthouse Learning",
    "Meridian Energy",
    "Nimbus Cloudworks",
    "Oakridge Partners",
    "Pinecrest Foods",
    "Quarry Road Studios",
    "Riverbend Biotech",
    "Saltmarsh Robotics",
    "Tidewater Freight",
    "Umberfield Consulting",
    "Vantage Point Realty",
    "Willowbrook Pharma",
    "Yellowstone Outfitters",
    "Zephyr Aerospace",
    "Acorn & Ash",
    "Brightline Payments",
    "Cobalt Ridge Mining",
    "Dovetail Design",
    "Emberly Hotels",
];
const FREE_MAIL: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "proton.me"];
const TEAM_NAMES: &[&str] = &[
    "Marketing Ops",
    "Sales Development",
    "Account Executives",
    "Customer Success",
    "Field Marketing",
    "Demand Generation",
    "Partnerships",
    "Executive Office",
];
const THEMES: &[&str] = &[
    "Meeting booked",
    "Webinar thank-you",
    "Renewal thank-you",
    "New customer welcome",
    "Event follow-up",
    "Referral reward",
    "Closed-won celebration",
    "Demo attended",
    "Executive outreach",
    "Survey incentive",
    "Conference booth",
    "Customer anniversary",
    "Pipeline push",
    "Holiday gifting",
    "Churn save",
    "Cold outreach",
];
const PRICES: &[&str] = &[
    "2.00", "5.00", "10.00", "15.00", "19.99", "25.00", "35.50", "49.99", "50.00", "75.50",
    "100.00",
];
/// (share in percent, platform) of `sent_via`.
const VIA: &[(u32, &str)] = &[
    (55, "Sendoso.com"),
    (15, "Salesforce Trigger"),
    (10, "API"),
    (8, "HubSpot"),
    (6, "Outreach"),
    (6, "Salesloft"),
];

/// The (type, subtype, currency) of the touches a seed creates, most popular first.
const KINDS: &[(SendType, Subtype, &str)] = &[
    (SendType::EgiftsUsa, Subtype::EgiftCardsUsa, "USD"),
    (SendType::InventoriedSends, Subtype::Custom, "USD"),
    (SendType::EgiftsUsa, Subtype::Coffee, "USD"),
    (SendType::HandwrittenNotes, Subtype::HandwrittenNotes, "USD"),
    (SendType::SendosoChoice, Subtype::Experiences, "USD"),
    (SendType::EgiftsUsa, Subtype::VisaEgiftCreditCardUs, "USD"),
    (SendType::Amazon, Subtype::BuySendViaAmazon, "USD"),
    (SendType::EgiftsUsa, Subtype::Lunch, "USD"),
    (SendType::SendosoDirect, Subtype::Wine, "USD"),
    (SendType::InventoriedSends, Subtype::CustomBundles, "USD"),
    (SendType::EgiftsInternational, Subtype::EgiftCardsUk, "GBP"),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsCanada,
        "CAD",
    ),
    (SendType::SendosoChoice, Subtype::DdoGift, "USD"),
    (SendType::EgiftsUsa, Subtype::DonateToCharity, "USD"),
    (SendType::InventoriedSends, Subtype::Bundles, "USD"),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsGermany,
        "EUR",
    ),
    (SendType::SendosoChoice, Subtype::OnDemand, "USD"),
    (SendType::Amazon, Subtype::BuySendViaAmazonUk, "GBP"),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsAustralia,
        "AUD",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsFrance,
        "EUR",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsIndia,
        "INR",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsMexico,
        "MXN",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsBrazil,
        "BRL",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsSingapore,
        "SGD",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsIreland,
        "EUR",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsNetherlands,
        "EUR",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsItaly,
        "EUR",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsNewZealand,
        "NZD",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsPoland,
        "PLN",
    ),
    (
        SendType::EgiftsInternational,
        Subtype::EgiftCardsSlovakia,
        "EUR",
    ),
];

use SendStatus::*;

/// Lifecycles of digital sends with their share in percent. Each step is walked through the
/// core lifecycle; a path is cut where its next step would lie in the future.
const DIGITAL_PATHS: &[(u32, &[SendStatus])] = &[
    (30, &[Sent, Opened, Clicked, Used]),
    (12, &[Sent, Opened, Used]),
    (10, &[Sent, Opened, Clicked, Expired]),
    (10, &[Sent, Opened, Clicked]),
    (10, &[Sent, Opened]),
    (10, &[Sent]),
    (8, &[Sent, ExpiredAndCredited]),
    (5, &[BouncedAndCredited]),
    (3, &[Failed, Refunded]),
    (2, &[Cancelled]),
];
const PHYSICAL_PATHS: &[(u32, &[SendStatus])] = &[
    (35, &[Processing, Packed, Shipped, Delivered]),
    (
        15,
        &[ConfirmingAddress, Processing, Packed, Shipped, Delivered],
    ),
    (
        8,
        &[
            CollectingRecipientInfo,
            ConfirmingAddress,
            Processing,
            Packed,
            Shipped,
        ],
    ),
    (10, &[Processing, Packed, Shipped]),
    (6, &[Processing, Packed]),
    (5, &[Processing]),
    (8, &[ConfirmingAddress, AddressConfirmationCancelled]),
    (4, &[Processing, Packed, Shipped, Undeliverable, Refunded]),
    (4, &[CollectingRecipientInfo]),
    (3, &[Processing, Failed, Refunded]),
    (2, &[Cancelled]),
];

/// How long after the previous step a status typically happens, in seconds (min, max).
fn delay(status: SendStatus) -> (i64, i64) {
    const MIN: i64 = 60;
    const HOUR: i64 = 3600;
    const DAY: i64 = 86_400;
    match status {
        Sent => (1, 5 * MIN),
        Opened => (MIN, 2 * DAY),
        Clicked => (1, 10 * MIN),
        Used => (MIN, 20 * DAY),
        // Expiries count from when the eGift was sent; see `Generator::history`.
        Expired | ExpiredAndCredited => (0, HOUR),
        BouncedAndCredited => (MIN, HOUR),
        CollectingRecipientInfo => (1, MIN),
        ConfirmingAddress => (MIN, 6 * HOUR),
        AddressConfirmationCancelled => (5 * DAY, 5 * DAY + 6 * HOUR),
        Processing => (MIN, 2 * DAY),
        Packed => (HOUR, 2 * DAY),
        Shipped => (HOUR, 3 * DAY),
        Delivered => (DAY, 7 * DAY),
        Undeliverable => (3 * DAY, 10 * DAY),
        Refunded => (DAY, 5 * DAY),
        Failed | Cancelled | Paused | Pending => (MIN, DAY),
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(u32, T)]) -> &'a T {
    let total: u32 = items.iter().map(|(w, _)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (weight, item) in items {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    &items[items.len() - 1].1
}

/// Lower case ASCII for email addresses: accents dropped, apostrophes and spaces removed.
fn email_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ï' => 'i',
            'ó' | 'ö' | 'ø' => 'o',
            'ú' | 'ü' => 'u',
            'ç' => 'c',
            c if c.is_ascii_alphanumeric() || c == '-' => c.to_ascii_lowercase(),
            c if c.is_ascii_uppercase() => c.to_ascii_lowercase(),
            _ => continue,
        };
        out.push(c);
    }
    out
}

/// Everything the generator draws from for one organization.
struct Catalog {
    touches: Vec<Touch>,
    users: Vec<User>,
}

/// The first `n` touches are the popular ones: rank = n * u², u uniform in [0, 1).
fn skewed_index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let u: f64 = rng.random();
    ((n as f64) * u * u) as usize % n
}

struct Generator {
    rng: ChaCha8Rng,
    catalog: Catalog,
    start: Timestamp,
    step_secs: f64,
    now: Timestamp,
    /// The organization's eGift expiry.
    expiry: SignedDuration,
    next: u64,
    total: u64,
}

impl Generator {
    /// A lifecycle for a send created at `created_at`, cut where it would reach the future; an
    /// eGift still waiting for its recipient then expires as the worker would make it, or gets
    /// the deadline at which it will.
    fn history(
        &mut self,
        kind: SendKind,
        created_at: Timestamp,
        price: Money,
    ) -> (Money, Vec<StatusEntry>, Option<Timestamp>) {
        let paths = match kind {
            SendKind::Digital => DIGITAL_PATHS,
            SendKind::Physical => PHYSICAL_PATHS,
        };
        let path = *pick_weighted(&mut self.rng, paths);
        let mut history: Vec<StatusEntry> = Vec::with_capacity(path.len());
        let mut cost = price;
        let mut at = created_at;
        for &status in path {
            let (lo, hi) = delay(status);
            // Expiry counts from when the eGift was sent, not from the previous step.
            let base = match status {
                Expired | ExpiredAndCredited => history
                    .iter()
                    .find(|e| e.status == Sent)
                    .map_or(at, |e| e.occurred_at + self.expiry),
                _ => at,
            };
            let next = base + SignedDuration::from_secs(self.rng.random_range(lo..=hi));
            let next = next.max(at);
            if next > self.now {
                break;
            }
            let state = SendState {
                kind,
                created_at,
                cost,
                history: &history,
            };
            let change = StatusChange {
                status,
                occurred_at: next,
                cost: None,
            };
            match lifecycle::plan(&state, &change) {
                Ok(t) => {
                    cost = t.cost;
                    history.push(t.entry);
                    at = next;
                }
                // The paths above follow the lifecycle; should one not, stop where it departs.
                Err(_) => break,
            }
        }
        let mut expires_at = None;
        let waiting = matches!(lifecycle::current_status(&history), Sent | Opened | Clicked);
        let sent = history
            .iter()
            .find(|e| e.status == Sent)
            .map(|e| e.occurred_at);
        if let (SendKind::Digital, true, Some(sent)) = (kind, waiting, sent) {
            let due = sent + self.expiry;
            if due > self.now {
                expires_at = Some(due);
            } else {
                let state = SendState {
                    kind,
                    created_at,
                    cost,
                    history: &history,
                };
                let change = StatusChange {
                    status: Expired,
                    occurred_at: due.max(at),
                    cost: None,
                };
                if let Ok(t) = lifecycle::plan(&state, &change) {
                    cost = t.cost;
                    history.push(t.entry);
                }
            }
        }
        (cost, history, expires_at)
    }

    fn one(&mut self) -> Result<SeedSend> {
        let i = self.next;
        self.next += 1;
        let touch = &self.catalog.touches[skewed_index(&mut self.rng, self.catalog.touches.len())];
        let (touch_id, send_type, touch_price) = (touch.id, touch.send_type, touch.price);
        let sender = pick(&mut self.rng, &self.catalog.users).id;
        let first = *pick(&mut self.rng, FIRST_NAMES);
        let last = *pick(&mut self.rng, LAST_NAMES);
        let company = (self.rng.random_range(0..7) != 0).then(|| *pick(&mut self.rng, COMPANIES));
        let domain = match company {
            Some(c) => format!("{}.com", email_part(c)),
            None => pick(&mut self.rng, FREE_MAIL).to_string(),
        };
        let jitter: f64 = self.rng.random();
        let offset = (i as f64 + jitter) * self.step_secs;
        let created_at = self.start + SignedDuration::from_secs(offset as i64);
        let price = match send_type.kind() {
            SendKind::Digital => touch_price,
            SendKind::Physical => {
                // Shipping and handling on top of the item.
                let cents = self.rng.random_range(500..2500u32);
                let shipping: Money = format!("{}.{:02}", cents / 100, cents % 100).parse()?;
                touch_price.checked_add(shipping).unwrap_or(touch_price)
            }
        };
        let (cost, history, egift_expires_at) = self.history(send_type.kind(), created_at, price);
        Ok(SeedSend {
            send: NewSend {
                touch: touch_id,
                sender,
                recipient: Recipient {
                    name: format!("{first} {last}"),
                    email: format!("{}.{}@{domain}", email_part(first), email_part(last)),
                    company_name: company.map(str::to_owned),
                },
                sent_via: pick_weighted(&mut self.rng, VIA).to_string(),
                created_at,
                cost: Some(cost),
            },
            cost,
            history,
            egift_expires_at,
            fund: true,
        })
    }

    fn batch(&mut self) -> Option<Result<Vec<SeedSend>>> {
        if self.next >= self.total {
            return None;
        }
        let n = (self.total - self.next).min(BATCH as u64) as usize;
        Some((0..n).map(|_| self.one()).collect())
    }
}

/// Creates teams, users and touches for an organization that has none.
async fn ensure_catalog(
    store: &dyn Store,
    org: OrgId,
    rng: &mut ChaCha8Rng,
) -> Result<(Catalog, Value)> {
    let org_row = store.org(org).await?;
    let domain = format!("{}.example", email_part(&org_row.name));
    let mut created = json!({"teams": 0, "users": 0, "touches": 0});
    let mut users = store.users(org).await?;
    if users.is_empty() {
        let mut teams = store.teams(org).await?;
        if teams.is_empty() {
            for name in TEAM_NAMES {
                teams.push(store.create_team(org, Name::parse("name", name)?).await?);
            }
            created["teams"] = json!(teams.len());
        }
        for n in 0..50usize {
            let first = FIRST_NAMES[(n * 7 + 3) % FIRST_NAMES.len()];
            let last = LAST_NAMES[(n * 11 + 5) % LAST_NAMES.len()];
            let team = (rng.random_range(0..6) != 0).then(|| pick(rng, &teams).id);
            let email = format!(
                "{}.{}{}@{domain}",
                email_part(first),
                email_part(last),
                n + 1
            );
            users.push(
                store
                    .create_user(
                        org,
                        NewUser::new(
                            Name::parse("name", &format!("{first} {last}"))?,
                            Email::parse("email", &email)?,
                            team,
                            if n % 10 == 0 {
                                Role::Manager
                            } else {
                                Role::Regular
                            },
                        ),
                    )
                    .await?,
            );
        }
        created["users"] = json!(users.len());
    }
    let mut touches = store.touches(org).await?;
    if touches.is_empty() {
        for t in 0..40usize {
            let (send_type, subtype, currency) = KINDS[t % KINDS.len()];
            let name = format!("{} - {}", pick(rng, THEMES), subtype);
            touches.push(
                store
                    .create_touch(
                        org,
                        NewTouch {
                            name: Name::parse("name", &name)?,
                            send_type,
                            subtype,
                            currency: currency.parse::<Currency>()?,
                            price: pick(rng, PRICES).parse()?,
                            delivery_type: send_type.default_delivery(),
                            starts_on: None,
                            ends_on: None,
                            active: true,
                            ship_to: giftwire_core::ShipTo::us(),
                            details: giftwire_core::store::TouchDetails {
                                created_by: users
                                    .iter()
                                    .find(|u| u.role == Role::Manager)
                                    .map(|u| u.id),
                                ..Default::default()
                            },
                        },
                    )
                    .await?,
            );
        }
        created["touches"] = json!(touches.len());
    }
    Ok((Catalog { touches, users }, created))
}

/// What seed gives each user it creates to send with (1,000.0).
const STARTING_BALANCE_UNITS: i64 = 1_000 * Amount::UNITS_PER_ONE;

/// Seeds `sends` sends into `org`; returns the JSON summary the command prints.
pub async fn run(
    store: &dyn Store,
    org: OrgId,
    sends: u64,
    seed: u64,
    progress: bool,
) -> Result<Value> {
    if sends == 0 {
        bail!("--sends must be at least 1");
    }
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (catalog, created) = ensure_catalog(store, org, &mut rng).await?;
    let catalog_expiry_days = store.org(org).await?.egift_expiry_days;
    // Over the year before the start of today (UTC): the same seed on the same day gives the
    // same sends.
    let now = giftwire_core::time::now();
    let today = Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(86_400))?;
    let year = 365 * 86_400;
    let mut generator = Generator {
        rng,
        catalog,
        start: today - SignedDuration::from_secs(year),
        step_secs: year as f64 / sends as f64,
        now,
        expiry: SignedDuration::from_hours(24 * i64::from(catalog_expiry_days)),
        next: 0,
        total: sends,
    };
    let bar = if progress {
        ProgressBar::new(sends)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} seeding [{bar:40}] {pos}/{len} sends ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut loaded = giftwire_core::store::BulkLoaded::default();
    if created["users"] != json!(0) {
        // New users start with something to send with.
        let funding = generator
            .catalog
            .users
            .iter()
            .map(|u| NewMovement {
                user: u.id,
                kind: MovementKind::Fund,
                amount: Amount::from_units(STARTING_BALANCE_UNITS),
                send: None,
                note: Some("starting balance".to_owned()),
                at: now,
            })
            .collect();
        store.fund(org, funding).await?;
    }
    while let Some(batch) = generator.batch() {
        let batch = batch?;
        let n = batch.len() as u64;
        // Each batch funds its senders with what its sends cost, in the load's transaction.
        let done = store.bulk_load(org, batch).await?;
        loaded.sends += done.sends;
        loaded.status_updates += done.status_updates;
        bar.inc(n);
    }
    bar.finish_and_clear();
    Ok(json!({
        "org_id": org,
        "sends": loaded.sends,
        "status_updates": loaded.status_updates,
        "created": created,
        "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    }))
}
