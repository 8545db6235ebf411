//! From domain records to wire types, in the organization's time zone.

use giftwire_api as api;
use giftwire_core::store::{Endpoint, Group, SendEvent, SendRecord, Touch, User, WebhookDelivery};
use giftwire_core::{Money, OrgTimeZone, SendGid, TeamId, UserId};

/// A send as `GET /api/v3/send` lists it.
pub fn send(record: &SendRecord, tz: &OrgTimeZone) -> api::Send {
    api::Send {
        id: record.id.get(),
        send_gid: SendGid::of(record.id).as_str().to_owned(),
        send_type: record.touch.send_type.as_str().to_owned(),
        subtype: record.touch.subtype.as_str().to_owned(),
        currency: record.touch.currency.as_str().to_owned(),
        current_total_cost: record.cost.to_string(),
        status: record.status().as_str().to_owned(),
        created_at: tz.format(record.created_at),
        touch: api::TouchRef {
            id: record.touch.id.get(),
            name: record.touch.name.clone(),
        },
        recipient: api::Recipient {
            name: record.recipient.name.clone(),
            email: record.recipient.email.clone(),
            company_name: record.recipient.company_name.clone(),
        },
        sender: api::Sender {
            id: record.sender.id.get(),
            name: record.sender.name.clone(),
            email: record.sender.email.clone(),
            team_id: record.sender.team.as_ref().map(|(id, _)| id.get()),
            team_name: record.sender.team.as_ref().map(|(_, name)| name.clone()),
        },
        sent_via: record.sent_via.clone(),
        status_updates: record
            .history
            .iter()
            .map(|entry| api::StatusUpdate {
                status: entry.status.as_str().to_owned(),
                occurred_at: tz.format(entry.occurred_at),
            })
            .collect(),
    }
}

/// The JSON array of a page's sends, as it appears under `"sends"`.
pub fn send_array(records: &[SendRecord], tz: &OrgTimeZone) -> Result<Vec<u8>, serde_json::Error> {
    let sends: Vec<api::Send> = records.iter().map(|r| send(r, tz)).collect();
    let mut out = Vec::with_capacity(records.len() * 800 + 2);
    serde_json::to_writer(&mut out, &sends)?;
    Ok(out)
}

/// A user as `GET /api/v3/users` lists it.
pub fn user(user: &User) -> api::users::User {
    api::users::User {
        id: user.id.get(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        team_group_id: user.team_id.map(TeamId::get),
    }
}

/// `GET /api/v3/me`.
pub fn me(user: &User, team_balance: Money) -> api::users::Me {
    api::users::Me {
        id: user.id.get(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        role: user.role.as_str().to_owned(),
        balance: user.balance.to_string(),
        team_balance: team_balance.whole(),
    }
}

/// A team as `GET /api/v3/groups` lists it.
pub fn group(group: &Group, tz: &OrgTimeZone) -> api::groups::Group {
    let team = &group.team;
    api::groups::Group {
        id: team.id.get(),
        budget: group.balance.whole(),
        created_at: tz.format_millis(team.created_at),
        monthly_budget: team.budget.monthly.plain(),
        name: team.name.clone(),
        one_time_budget: team.budget.one_time.whole(),
        rollover: team.budget.rollover,
        team_id: team.org_id.get(),
        updated_at: tz.format_millis(team.updated_at),
    }
}

/// A user as `GET /api/v3/groups/{id}/members` lists it.
pub fn member(user: &User, team: TeamId) -> api::groups::Member {
    api::groups::Member {
        id: user.id.get(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        balance: user.balance.to_string(),
        sandbox: false,
        team_group_id: team.get(),
        team_id: user.org_id.get(),
        key: user.key.clone(),
    }
}

/// A touch as `GET /api/v3/touches` lists it.
pub fn touch(touch: &Touch, tz: &OrgTimeZone) -> api::touches::Touch {
    let price = |m: Money| m.decimal().to_string().parse::<f64>().ok();
    let d = &touch.details;
    api::touches::Touch {
        id: touch.id.get(),
        name: touch.name.clone(),
        start_date: tz.format_date_millis(
            touch
                .starts_on
                .unwrap_or_else(|| tz.date_of(touch.created_at)),
        ),
        end_date: touch.ends_on.map(|day| tz.format_date_millis(day)),
        description: d.description.clone(),
        created_at: tz.format_millis(touch.created_at),
        user_id: d.created_by.map(UserId::get),
        gift_id: d.gift_id,
        starting_egift_price: d.egift_prices.and_then(|(low, _)| price(low)),
        ending_egift_price: d.egift_prices.and_then(|(_, high)| price(high)),
        status: "Active".to_owned(),
        is_default_price: d.egift_prices.is_none(),
        delivery_type: touch.delivery_type.as_str().to_owned(),
        hubspot_key: d.hubspot_key.clone(),
        ship_to_countries: touch
            .ship_to
            .countries()
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        currency: touch.currency.as_str().to_owned(),
    }
}

pub fn webhook_endpoint(e: &Endpoint, tz: &OrgTimeZone) -> api::webhooks::WebhookEndpoint {
    api::webhooks::WebhookEndpoint {
        id: e.id,
        url: e.url.clone(),
        events: e.events.types().into_iter().map(str::to_owned).collect(),
        enabled: e.enabled,
        description: e.description.clone(),
        disabled_reason: e.disabled_reason.map(|r| r.as_str().to_owned()),
        created_at: tz.format(e.created_at),
        updated_at: tz.format(e.updated_at),
    }
}

pub fn webhook_delivery(d: &WebhookDelivery, tz: &OrgTimeZone) -> api::webhooks::WebhookDelivery {
    api::webhooks::WebhookDelivery {
        event_id: d.event_id,
        event_type: d.event_type.clone(),
        send_gid: SendGid::of(d.send_id).as_str().to_owned(),
        attempt: d.attempts,
        status_code: d.status_code,
        latency_ms: d.latency_ms,
        state: d.state.as_str().to_owned(),
        next_attempt_at: d.next_attempt_at.map(|t| tz.format(t)),
        error: d.error.clone(),
    }
}

/// The body posted for an event (its send's gid, when the change happened, its type and the
/// status it led to).
pub fn webhook_body(event: &SendEvent, tz: &OrgTimeZone) -> api::webhooks::WebhookBody {
    api::webhooks::WebhookBody {
        send_gid: SendGid::of(event.send_id).as_str().to_owned(),
        status_changed_at: tz.format(event.occurred_at),
        event_type: event.event_type.clone(),
        status: event.status.as_str().to_owned(),
    }
}
