//! Rows into domain records, shared by both backends (they select the same columns in the same
//! order), and the assembly of a page's histories.

use giftwire_core::lifecycle::StatusEntry;
use giftwire_core::store::{
    App, Code, Mail, Movement, NewUser, Org, Principal, Recipient, RefreshGrant, ScimEmail,
    ScimUser, SendEvent, SendRecord, SenderRef, Team, TeamBudget, Touch, TouchDetails, TouchRef,
    User,
};
use giftwire_core::store::{DeliveryState, DueDelivery, Endpoint, WebhookDelivery};
use giftwire_core::webhooks::EventFilter;
use giftwire_core::{
    Address, AddressCollection, Amount, AppId, CodeId, Delivery, InvalidValue, Money, OrgId,
    OrgTimeZone, Scopes, SendId, ShipTo, StoreError, TeamId, TokenId, TouchId, TrackingCode,
    UserId,
};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::rows::{RowExt, corrupt};

/// What an invitation mail's text becomes once it is delivered or given up: its link is the
/// invitation's only credential and is not kept.
pub(crate) const SPENT_INVITATION: &str =
    "(delivered or given up: the invitation link is not kept)";

/// The columns of [`org`].
pub(crate) const ORG_COLUMNS: &str = "id, name, time_zone, send_count, egift_expiry_days";

pub(crate) fn org(row: &impl RowExt) -> Result<Org, StoreError> {
    Ok(Org {
        id: OrgId::new(row.int(0)?),
        name: row.text(1)?,
        time_zone: OrgTimeZone::parse(&row.text(2)?).map_err(corrupt)?,
        send_count: row.int(3)? as u64,
        egift_expiry_days: row.int(4)? as u32,
    })
}

/// An amount column of ten-thousandths that may not be negative.
pub(crate) fn money_units(row: &impl RowExt, idx: usize) -> Result<Money, StoreError> {
    let units = row.int(idx)?;
    Money::from_units(units).ok_or_else(|| corrupt(InvalidValue::new("amount", &units.to_string())))
}

/// How many columns [`team`] reads.
pub(crate) const TEAM_COLUMN_COUNT: usize = 8;

/// Columns: id, org_id, name, created_at, updated_at (epoch seconds), monthly_budget_units,
/// one_time_budget_units, rollover (integer).
pub(crate) fn team(row: &impl RowExt) -> Result<Team, StoreError> {
    Ok(Team {
        id: TeamId::new(row.int(0)?),
        org_id: OrgId::new(row.int(1)?),
        name: row.text(2)?,
        created_at: row.time(3)?,
        updated_at: row.time(4)?,
        budget: TeamBudget {
            monthly: money_units(row, 5)?,
            one_time: money_units(row, 6)?,
            rollover: row.int(7)? != 0,
        },
    })
}

/// The columns of [`user`].
pub(crate) const USER_COLUMNS: &str =
    "id, org_id, team_id, name, email, role, balance_units, first_name, last_name, state, key";
/// How many columns [`USER_COLUMNS`] are: where a query's own columns after them start.
pub(crate) const USER_COLUMN_COUNT: usize = 11;
/// [`USER_COLUMNS`] of a query that calls the users table `u`.
pub(crate) const USER_COLUMNS_U: &str = "u.id, u.org_id, u.team_id, u.name, u.email, u.role, \
     u.balance_units, u.first_name, u.last_name, u.state, u.key";

pub(crate) fn user(row: &impl RowExt) -> Result<User, StoreError> {
    Ok(User {
        id: UserId::new(row.int(0)?),
        org_id: OrgId::new(row.int(1)?),
        team_id: row.opt_int(2)?.map(TeamId::new),
        name: row.text(3)?,
        email: row.text(4)?,
        role: row.parsed(5)?,
        balance: money_units(row, 6)?,
        first_name: row.text(7)?,
        last_name: row.text(8)?,
        state: row.parsed(9)?,
        key: row.opt_text(10)?.unwrap_or_default(),
    })
}

/// Columns: id, user_id, kind, amount_units, balance_units, send_id, note, created_at (epoch
/// seconds).
pub(crate) fn movement(row: &impl RowExt) -> Result<Movement, StoreError> {
    Ok(Movement {
        id: row.int(0)?,
        user: UserId::new(row.int(1)?),
        kind: row.parsed(2)?,
        amount: Amount::from_units(row.int(3)?),
        balance: money_units(row, 4)?,
        send: row.opt_int(5)?.map(SendId::new),
        note: row.opt_text(6)?,
        at: row.time(7)?,
    })
}

fn date(row: &impl RowExt, idx: usize) -> Result<Option<Date>, StoreError> {
    row.opt_text(idx)?
        .map(|s| {
            s.parse::<Date>()
                .map_err(|_| corrupt(InvalidValue::new("date", &s)))
        })
        .transpose()
}

/// Columns: id, org_id, name, type, subtype, currency, price (text), delivery_type,
/// starts_on (text), ends_on (text), active (integer), ship_to_countries, description, user_id,
/// gift_id, starting_egift_price (text), ending_egift_price (text), hubspot_key, created_at
/// (epoch seconds).
pub(crate) fn touch(row: &impl RowExt) -> Result<Touch, StoreError> {
    Ok(Touch {
        id: TouchId::new(row.int(0)?),
        org_id: OrgId::new(row.int(1)?),
        name: row.text(2)?,
        send_type: row.parsed(3)?,
        subtype: row.parsed(4)?,
        currency: row.parsed(5)?,
        price: row.parsed(6)?,
        delivery_type: row.parsed(7)?,
        starts_on: date(row, 8)?,
        ends_on: date(row, 9)?,
        active: row.int(10)? != 0,
        ship_to: ShipTo::parse(&row.text(11)?).map_err(corrupt)?,
        details: TouchDetails {
            description: row.text(12)?,
            created_by: row.opt_int(13)?.map(UserId::new),
            gift_id: row.opt_int(14)?,
            egift_prices: match (row.opt_text(15)?, row.opt_text(16)?) {
                (Some(low), Some(high)) => Some((
                    low.parse().map_err(corrupt)?,
                    high.parse().map_err(corrupt)?,
                )),
                _ => None,
            },
            hubspot_key: row.opt_text(17)?,
        },
        created_at: row.time(18)?,
    })
}

/// A delivery from the columns starting at `at`: tracking_code, variant, custom_message,
/// address, city, state, zip, country, mobile_no, address_confirmation_via, expire_after_days,
/// resume_with_unconfirmed_address, hide_product_info, address_confirmation_custom_message.
pub(crate) fn delivery(row: &impl RowExt, at: usize) -> Result<Delivery, StoreError> {
    let tracking = row.text(at)?;
    let tracking_code = TrackingCode::parse(&tracking)
        .ok_or_else(|| corrupt(InvalidValue::new("tracking_code", &tracking)))?;
    let address = match row.opt_text(at + 3)? {
        Some(line) => Some(Address {
            line,
            city: row.opt_text(at + 4)?.unwrap_or_default(),
            state: row.opt_text(at + 5)?.unwrap_or_default(),
            zip: row.opt_text(at + 6)?.unwrap_or_default(),
            country: giftwire_core::Country::parse(
                "country",
                &row.opt_text(at + 7)?.unwrap_or_default(),
            )
            .map_err(corrupt)?,
            mobile_no: row.opt_text(at + 8)?,
        }),
        None => None,
    };
    let collection = match row.opt_text(at + 9)? {
        Some(via) => Some(AddressCollection {
            via: via.parse().map_err(corrupt)?,
            expire_after_days: row.opt_int(at + 10)?.unwrap_or(7) as u8,
            resume_with_unconfirmed_address: row.opt_int(at + 11)?.unwrap_or(0) != 0,
            hide_product_info: row.opt_int(at + 12)?.unwrap_or(0) != 0,
            custom_message: row.opt_text(at + 13)?,
        }),
        None => None,
    };
    Ok(Delivery {
        tracking_code,
        variant: row.parsed(at + 1)?,
        custom_message: row.opt_text(at + 2)?,
        address,
        collection,
    })
}

/// Columns: id, org_id, send_id, kind, recipient, subject, text_body, html_body, created_at,
/// attempts, sent_at, failed_at, last_error (times in seconds).
pub(crate) fn mail(row: &impl RowExt) -> Result<Mail, StoreError> {
    let opt_time = |idx| -> Result<Option<jiff::Timestamp>, StoreError> {
        row.opt_int(idx)?
            .map(|s| jiff::Timestamp::from_second(s).map_err(|e| StoreError::Internal(Box::new(e))))
            .transpose()
    };
    Ok(Mail {
        id: row.int(0)?,
        org_id: OrgId::new(row.int(1)?),
        send_id: row.opt_int(2)?.map(SendId::new),
        kind: row.parsed(3)?,
        to: row.text(4)?,
        subject: row.text(5)?,
        text_body: row.text(6)?,
        html_body: row.opt_text(7)?,
        created_at: row.time(8)?,
        attempts: row.int(9)? as u32,
        sent_at: opt_time(10)?,
        failed_at: opt_time(11)?,
        last_error: row.opt_text(12)?,
    })
}

/// Columns: s.id, s.touch_id, t.name, t.type, t.subtype, t.currency, s.recipient_name,
/// s.recipient_email, s.recipient_company, s.sender_id, u.name, u.email, u.team_id, tm.name,
/// s.sent_via, s.cost (text), s.created_at (seconds).
pub(crate) fn send(row: &impl RowExt) -> Result<SendRecord, StoreError> {
    let team = match (row.opt_int(12)?, row.opt_text(13)?) {
        (Some(id), Some(name)) => Some((TeamId::new(id), name)),
        _ => None,
    };
    Ok(SendRecord {
        id: SendId::new(row.int(0)?),
        touch: TouchRef {
            id: TouchId::new(row.int(1)?),
            name: row.text(2)?,
            send_type: row.parsed(3)?,
            subtype: row.parsed(4)?,
            currency: row.parsed(5)?,
        },
        recipient: Recipient {
            name: row.text(6)?,
            email: row.text(7)?,
            company_name: row.opt_text(8)?,
        },
        sender: SenderRef {
            id: UserId::new(row.int(9)?),
            name: row.text(10)?,
            email: row.text(11)?,
            team,
        },
        sent_via: row.text(14)?,
        cost: row.parsed(15)?,
        created_at: row.time(16)?,
        history: Vec::new(),
    })
}

/// Distributes status updates (columns: send_id, status, occurred_at in seconds; ordered by
/// send id, then position) over `sends`, which are ascending by id.
pub(crate) fn attach_histories<R: RowExt>(
    sends: &mut [SendRecord],
    updates: &[R],
) -> Result<(), StoreError> {
    let mut i = 0;
    for row in updates {
        let send_id = row.int(0)?;
        while i < sends.len() && sends[i].id.get() < send_id {
            i += 1;
        }
        match sends.get_mut(i) {
            Some(send) if send.id.get() == send_id => send.history.push(StatusEntry {
                status: row.parsed(1)?,
                occurred_at: row.time(2)?,
            }),
            // Not one of the listed sends (the range is by id, and ids of the organization grow
            // with its positions, so this does not happen); never attach it to another send.
            _ => {}
        }
    }
    Ok(())
}

/// Columns: token id, user id, org id, scopes, time zone, expires_at (seconds or null), app id
/// (or null).
pub(crate) fn principal(row: &impl RowExt) -> Result<Principal, StoreError> {
    Ok(Principal {
        token_id: TokenId::new(row.int(0)?),
        user_id: UserId::new(row.int(1)?),
        org_id: OrgId::new(row.int(2)?),
        scopes: Scopes::parse(&row.text(3)?).map_err(corrupt)?,
        time_zone: OrgTimeZone::parse(&row.text(4)?).map_err(corrupt)?,
        expires_at: row
            .opt_int(5)?
            .map(Timestamp::from_second)
            .transpose()
            .map_err(|e| StoreError::Internal(Box::new(e)))?,
        app_id: row.opt_int(6)?.map(AppId::new),
    })
}

/// The message of a refused user whose email the organization already has.
pub(crate) fn duplicate_email(new: &NewUser, org: OrgId) -> String {
    format!(
        "a user with email {} already exists in organization {org}",
        new.email.as_str()
    )
}

/// Columns: org_id, send_id, kind, due_at (seconds).
pub(crate) fn deadline(row: &impl RowExt) -> Result<giftwire_core::Deadline, StoreError> {
    Ok(giftwire_core::Deadline {
        org: OrgId::new(row.int(0)?),
        send: SendId::new(row.int(1)?),
        kind: row.parsed(2)?,
        due_at: row.time(3)?,
    })
}

/// Columns (SQLite; PostgreSQL converts the times to epoch seconds): id, org id, client id,
/// secret hash, name, redirect URIs (one per line), scopes, created_at, revoked_at.
pub(crate) fn app(row: &impl RowExt) -> Result<App, StoreError> {
    Ok(App {
        id: AppId::new(row.int(0)?),
        org_id: OrgId::new(row.int(1)?),
        client_id: row.text(2)?,
        secret_hash: row.opt_hash(3)?,
        name: row.text(4)?,
        redirect_uris: row.text(5)?.lines().map(str::to_owned).collect(),
        scopes: Scopes::parse(&row.text(6)?).map_err(corrupt)?,
        created_at: row.time(7)?,
        revoked_at: row.opt_time(8)?,
    })
}

/// Columns: id, app id, org id, user id, redirect URI, scopes, challenge, expires_at, used_at.
pub(crate) fn code(row: &impl RowExt) -> Result<Code, StoreError> {
    Ok(Code {
        id: CodeId::new(row.int(0)?),
        app_id: AppId::new(row.int(1)?),
        org_id: OrgId::new(row.int(2)?),
        user_id: UserId::new(row.int(3)?),
        redirect_uri: row.text(4)?,
        scopes: Scopes::parse(&row.text(5)?).map_err(corrupt)?,
        challenge: row.opt_text(6)?,
        expires_at: row.time(7)?,
        used_at: row.opt_time(8)?,
    })
}

/// Columns: token id, app id, org id, user id, code id, scopes, spent (0 or 1).
pub(crate) fn refresh_grant(row: &impl RowExt) -> Result<RefreshGrant, StoreError> {
    Ok(RefreshGrant {
        token_id: TokenId::new(row.int(0)?),
        app_id: AppId::new(row.int(1)?),
        org_id: OrgId::new(row.int(2)?),
        user_id: UserId::new(row.int(3)?),
        code_id: CodeId::new(row.int(4)?),
        scopes: Scopes::parse(&row.text(5)?).map_err(corrupt)?,
        spent: row.int(6)? != 0,
    })
}

/// Access-token hashes of revoked rows.
pub(crate) fn hashes<R: RowExt>(rows: &[R]) -> Result<Vec<giftwire_core::TokenHash>, StoreError> {
    rows.iter()
        .filter_map(|r| r.opt_hash(0).transpose())
        .collect()
}

/// A SCIM user: [`USER_COLUMNS`], then team name, external_id, user_type, created_at,
/// updated_at (epoch seconds), userName, scim_emails (JSON), scim_active_shown.
pub(crate) fn scim_user(row: &impl RowExt) -> Result<ScimUser, StoreError> {
    let user = user(row)?;
    let at = USER_COLUMN_COUNT;
    let emails = match row.opt_text(at + 6)? {
        Some(json) => Some(
            serde_json::from_str::<Vec<ScimEmail>>(&json)
                .map_err(|e| StoreError::Internal(Box::new(e)))?,
        ),
        None => None,
    };
    Ok(ScimUser {
        team_name: row.opt_text(at)?,
        external_id: row.opt_text(at + 1)?,
        user_type: row
            .opt_text(at + 2)?
            .map(|t| t.parse().map_err(corrupt))
            .transpose()?,
        created_at: row.time(at + 3)?,
        updated_at: row.time(at + 4)?,
        user_name: row.text(at + 5)?,
        emails,
        active_shown: row.int(at + 7)? != 0,
        user,
    })
}

/// Columns: id, org_id, send_id, seq, type, status, occurred_at (epoch seconds).
pub(crate) fn send_event(row: &impl RowExt) -> Result<SendEvent, StoreError> {
    Ok(SendEvent {
        id: row.int(0)?,
        org_id: OrgId::new(row.int(1)?),
        send_id: SendId::new(row.int(2)?),
        seq: row.int(3)? as u32,
        event_type: row.text(4)?,
        status: row.parsed(5)?,
        occurred_at: row.time(6)?,
    })
}

/// Columns: id, org_id, url, events, description, enabled (0/1), disabled_reason, secret,
/// previous_secret, previous_secret_until, failing_since, created_at, updated_at (epoch
/// seconds).
pub(crate) fn endpoint(row: &impl RowExt) -> Result<Endpoint, StoreError> {
    Ok(Endpoint {
        id: row.int(0)?,
        org_id: OrgId::new(row.int(1)?),
        url: row.text(2)?,
        events: EventFilter::from_stored(row.opt_text(3)?.as_deref()),
        description: row.text(4)?,
        enabled: row.int(5)? != 0,
        disabled_reason: row
            .opt_text(6)?
            .map(|r| r.parse())
            .transpose()
            .map_err(corrupt)?,
        secret: row.text(7)?,
        previous_secret: row.opt_text(8)?,
        previous_secret_until: row.opt_time(9)?,
        failing_since: row.opt_time(10)?,
        created_at: row.time(11)?,
        updated_at: row.time(12)?,
    })
}

/// Columns: id, org_id, endpoint_id, event_id, event type, send_id, attempts, state,
/// next_attempt_at, status_code, latency_ms, error, created_at, delivered_at.
pub(crate) fn webhook_delivery(row: &impl RowExt) -> Result<WebhookDelivery, StoreError> {
    let state: DeliveryState = row.parsed(7)?;
    Ok(WebhookDelivery {
        id: row.int(0)?,
        org_id: OrgId::new(row.int(1)?),
        endpoint_id: row.int(2)?,
        event_id: row.int(3)?,
        event_type: row.text(4)?,
        send_id: SendId::new(row.int(5)?),
        attempts: row.int(6)? as u32,
        state,
        next_attempt_at: if state == DeliveryState::Pending {
            Some(row.time(8)?)
        } else {
            None
        },
        status_code: row.opt_int(9)?.map(|c| c as u16),
        latency_ms: row.opt_int(10)?.map(|ms| ms as u32),
        error: row.opt_text(11)?,
        created_at: row.time(12)?,
        delivered_at: row.opt_time(13)?,
    })
}

/// Columns: the delivery's id, endpoint_id and attempts, then [`send_event`]'s seven, then the
/// organization's time zone.
pub(crate) fn due_delivery(row: &impl RowExt, lease: Timestamp) -> Result<DueDelivery, StoreError> {
    Ok(DueDelivery {
        id: row.int(0)?,
        endpoint_id: row.int(1)?,
        attempts: row.int(2)? as u32,
        lease,
        event: SendEvent {
            id: row.int(3)?,
            org_id: OrgId::new(row.int(4)?),
            send_id: SendId::new(row.int(5)?),
            seq: row.int(6)? as u32,
            event_type: row.text(7)?,
            status: row.parsed(8)?,
            occurred_at: row.time(9)?,
        },
        time_zone: OrgTimeZone::parse(&row.text(10)?).map_err(corrupt)?,
    })
}

/// Sends read in position order (`sends`) paired with the change feed positions of the same
/// sends in the same order (`positions`), answered in change order.
pub(crate) fn in_change_order(
    positions: impl ExactSizeIterator<Item = giftwire_core::ChangePosition>,
    sends: Vec<SendRecord>,
) -> Result<Vec<giftwire_core::store::SendChange>, StoreError> {
    if positions.len() != sends.len() {
        return Err(StoreError::Internal(
            "a changed send was not found in the same snapshot".into(),
        ));
    }
    let mut changes: Vec<_> = positions
        .zip(sends)
        .map(|(position, send)| giftwire_core::store::SendChange { position, send })
        .collect();
    changes.sort_unstable_by_key(|c| c.position);
    Ok(changes)
}
