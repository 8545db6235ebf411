//! The admin commands: each parses its arguments into domain values (refusing bad ones before
//! anything is written), calls the store once, and returns the one JSON object it prints.

use anyhow::{Context as _, Result, bail};
use giftwire_core::lifecycle::StatusChange;
use giftwire_core::store::{
    App, Movement, MovementKind, NewMovement, NewOrg, NewSend, NewToken, NewTouch, NewUser,
    Recipient, TeamBudget, Touch, TouchDetails, User,
};
use giftwire_core::time::parse_instant;
use giftwire_core::{
    Amount, Clock, DeliveryType, Email, Money, Name, OrgId, OrgTimeZone, PlainToken, Role, Scopes,
    SendId, SendType, Store, Subtype, TeamId, TouchId, UserId, UserState,
};
use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::{Value, json};

use crate::cli::{
    AppCommand, OrgCommand, SendCommand, TeamCommand, TokenCommand, TouchCommand, TouchDetailsArgs,
    UserCommand,
};

pub async fn org(store: &dyn Store, command: OrgCommand) -> Result<Value> {
    let (name, time_zone, egift_expiry_days) = match command {
        OrgCommand::Create {
            name,
            time_zone,
            egift_expiry_days,
        } => (name, time_zone, egift_expiry_days),
        OrgCommand::List => {
            let orgs: Vec<Value> = store
                .all_orgs()
                .await?
                .into_iter()
                .map(|o| {
                    json!({
                        "id": o.id,
                        "name": o.name,
                        "time_zone": o.time_zone.name(),
                        "egift_expiry_days": o.egift_expiry_days,
                        "send_count": o.send_count,
                    })
                })
                .collect();
            return Ok(json!({"organizations": orgs}));
        }
    };
    if egift_expiry_days == 0 {
        bail!("egift_expiry_days must be at least 1");
    }
    let new = NewOrg {
        name: Name::parse("name", &name)?,
        time_zone: OrgTimeZone::parse(&time_zone)?,
        egift_expiry_days,
    };
    let org = store.create_org(new).await?;
    Ok(json!({"id": org.id, "name": org.name, "time_zone": org.time_zone.name()}))
}

pub async fn team(store: &dyn Store, command: TeamCommand) -> Result<Value> {
    match command {
        TeamCommand::Create { org, name } => {
            let team = store
                .create_team(OrgId::new(org), Name::parse("name", &name)?)
                .await?;
            Ok(json!({"id": team.id, "name": team.name}))
        }
        TeamCommand::Budget {
            team,
            monthly,
            one_time,
            rollover,
        } => {
            let amount = |what: &'static str, s: &str| {
                s.parse::<Money>()
                    .map_err(|_| giftwire_core::InvalidValue::new(what, s))
            };
            let current = store.team_system_wide(TeamId::new(team)).await?;
            let budget = TeamBudget {
                monthly: match monthly {
                    Some(s) => amount("monthly", &s)?,
                    None => current.budget.monthly,
                },
                one_time: match one_time {
                    Some(s) => amount("one_time", &s)?,
                    None => current.budget.one_time,
                },
                rollover: rollover.unwrap_or(current.budget.rollover),
            };
            let team = store
                .set_team_budget(current.org_id, current.id, budget, Timestamp::now())
                .await?;
            Ok(json!({
                "id": team.id,
                "org_id": team.org_id,
                "name": team.name,
                "monthly_budget": team.budget.monthly,
                "one_time_budget": team.budget.one_time,
                "rollover": team.budget.rollover,
            }))
        }
    }
}

fn movement_json(m: &Movement) -> Value {
    json!({
        "id": m.id,
        "kind": m.kind.as_str(),
        "amount": m.amount,
        "balance": m.balance,
        "send_id": m.send,
        "note": m.note,
        "at": m.at.to_string(),
    })
}

pub async fn user(store: &dyn Store, command: UserCommand) -> Result<Value> {
    let command_state = matches!(command, UserCommand::Activate { .. });
    let (org, name, email, team, role) = match command {
        UserCommand::Create {
            org,
            name,
            email,
            team,
            role,
        } => (org, name, email, team, role),
        UserCommand::SetPassword { user } => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            let password = line.strip_suffix('\n').unwrap_or(&line);
            let password = password.strip_suffix('\r').unwrap_or(password);
            giftwire_server::oauth::set_password(store, UserId::new(user), password).await?;
            return Ok(json!({"id": user, "password_set": true}));
        }
        UserCommand::Fund { user, amount, note } => {
            let amount: Amount = amount.parse()?;
            if amount.units() == 0 {
                bail!("amount must not be zero");
            }
            let user = store.user_system_wide(UserId::new(user)).await?;
            let movement = NewMovement {
                user: user.id,
                kind: MovementKind::Fund,
                amount,
                send: None,
                note,
                at: Timestamp::now(),
            };
            let done = store.fund(user.org_id, vec![movement]).await?;
            let mut out = movement_json(&done[0]);
            out["user_id"] = json!(user.id);
            return Ok(out);
        }
        UserCommand::Invite {
            org,
            first_name,
            last_name,
            email,
            team,
            role,
            public_url,
        } => {
            let org = OrgId::new(org);
            let new = NewUser::from_parts(
                Name::parse("first_name", &first_name)?,
                &last_name,
                Email::parse("email", &email)?,
                team.map(TeamId::new),
                role.parse::<Role>()?,
            )?;
            let invited = giftwire_server::invitation::invite(
                store,
                org,
                new,
                "An administrator",
                &public_url,
                Timestamp::now(),
            )
            .await?;
            let tz = store.org(org).await?.time_zone;
            return Ok(json!({
                "id": invited.user.id,
                "email": invited.user.email,
                "state": invited.user.state,
                "invitation_url": invited.link,
                "expires_at": tz.format(invited.expires_at),
            }));
        }
        UserCommand::Deactivate { user } | UserCommand::Activate { user } => {
            let state = match command_state {
                true => UserState::Active,
                false => UserState::Deactivated,
            };
            let user = store.user_system_wide(UserId::new(user)).await?;
            let user = store.set_user_state(user.org_id, user.id, state).await?;
            return Ok(user_json(&user));
        }
        UserCommand::Ledger { user } => {
            let user = store.user_system_wide(UserId::new(user)).await?;
            let (balance, movements) = store.ledger(user.org_id, user.id).await?;
            let movements: Vec<Value> = movements.iter().map(movement_json).collect();
            return Ok(json!({"user_id": user.id, "balance": balance, "movements": movements}));
        }
    };
    let new = NewUser::new(
        Name::parse("name", &name)?,
        Email::parse("email", &email)?,
        team.map(TeamId::new),
        role.parse::<Role>()?,
    );
    let user = store.create_user(OrgId::new(org), new).await?;
    Ok(user_json(&user))
}

fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "org_id": user.org_id,
        "name": user.name,
        "email": user.email,
        "team_id": user.team_id,
        "role": user.role,
        "balance": user.balance,
        "state": user.state,
    })
}

fn date(what: &'static str, s: Option<&str>) -> Result<Option<Date>> {
    s.map(|s| {
        s.parse::<Date>()
            .map_err(|_| giftwire_core::InvalidValue::new(what, s).into())
    })
    .transpose()
}

pub async fn touch(store: &dyn Store, command: TouchCommand) -> Result<Value> {
    let args = match command {
        TouchCommand::Create(args) => *args,
        TouchCommand::Update {
            touch,
            details,
            active,
        } => {
            let current = store.touch_system_wide(TouchId::new(touch)).await?;
            let new = touch_details(details, current.details.clone())?;
            let touch = store
                .set_touch_details(
                    current.org_id,
                    current.id,
                    new,
                    active.unwrap_or(current.active),
                )
                .await?;
            return Ok(touch_json(&touch));
        }
    };
    let send_type: SendType = args.send_type.parse()?;
    let new = NewTouch {
        name: Name::parse("name", &args.name)?,
        send_type,
        subtype: args.subtype.parse::<Subtype>()?,
        currency: args.currency.parse()?,
        price: args
            .price
            .parse::<Money>()
            .map_err(|_| giftwire_core::InvalidValue::new("price", &args.price))?,
        delivery_type: match &args.delivery_type {
            Some(d) => d.parse::<DeliveryType>()?,
            None => send_type.default_delivery(),
        },
        starts_on: date("starts_on", args.starts_on.as_deref())?,
        ends_on: date("ends_on", args.ends_on.as_deref())?,
        active: !args.inactive,
        ship_to: giftwire_core::ShipTo::parse(&args.ship_to)?,
        details: touch_details(args.details, TouchDetails::default())?,
    };
    if let (Some(start), Some(end)) = (new.starts_on, new.ends_on)
        && end < start
    {
        bail!("ends_on ({end}) is before starts_on ({start})");
    }
    let touch = store.create_touch(OrgId::new(args.org), new).await?;
    Ok(touch_json(&touch))
}

/// `details` with what the options give changed.
fn touch_details(args: TouchDetailsArgs, mut details: TouchDetails) -> Result<TouchDetails> {
    if let Some(description) = args.description {
        details.description = description.trim().to_owned();
    }
    if let Some(user) = args.creator {
        details.created_by = Some(UserId::new(user));
    }
    if let Some(gift) = args.gift_id {
        details.gift_id = Some(gift);
    }
    if let Some(range) = args.egift_prices {
        details.egift_prices = match range.as_str() {
            "none" => None,
            _ => {
                let invalid = || giftwire_core::InvalidValue::new("egift_prices", &range);
                let (low, high) = range.split_once('-').ok_or_else(invalid)?;
                let low: Money = low.parse().map_err(|_| invalid())?;
                let high: Money = high.parse().map_err(|_| invalid())?;
                if high < low {
                    bail!("egift_prices: the highest price ({high}) is below the lowest ({low})");
                }
                Some((low, high))
            }
        };
    }
    if let Some(key) = args.hubspot_key {
        details.hubspot_key = (!key.trim().is_empty()).then(|| key.trim().to_owned());
    }
    Ok(details)
}

fn touch_json(touch: &Touch) -> Value {
    let d = &touch.details;
    json!({
        "id": touch.id,
        "org_id": touch.org_id,
        "name": touch.name,
        "type": touch.send_type,
        "subtype": touch.subtype,
        "currency": touch.currency,
        "price": touch.price,
        "delivery_type": touch.delivery_type,
        "starts_on": touch.starts_on.map(|d| d.to_string()),
        "ends_on": touch.ends_on.map(|d| d.to_string()),
        "active": touch.active,
        "ship_to_countries": touch.ship_to.countries().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "description": d.description,
        "creator": d.created_by,
        "gift_id": d.gift_id,
        "egift_prices": d.egift_prices.map(|(low, high)| [low, high]),
        "hubspot_key": d.hubspot_key,
    })
}

pub async fn token(store: &dyn Store, clock: &Clock, command: TokenCommand) -> Result<Value> {
    match command {
        TokenCommand::Create {
            user,
            scopes,
            expires_in,
        } => {
            let scopes = Scopes::parse(&scopes)?;
            let expires_at = expires_in
                .map(|secs| {
                    clock
                        .now()
                        .checked_add(jiff::SignedDuration::from_secs(i64::from(secs)))
                        .context("expires_in is too far in the future")
                })
                .transpose()?;
            let token = PlainToken::generate();
            store
                .create_token(NewToken {
                    user: UserId::new(user),
                    hash: token.hash(),
                    scopes,
                    expires_at,
                })
                .await?;
            let mut out = json!({"access_token": token.expose(), "scope": scopes.to_string()});
            if let Some(secs) = expires_in {
                out["expires_in"] = json!(secs);
            }
            Ok(out)
        }
        TokenCommand::Revoke { token } => {
            store
                .revoke_token(PlainToken::from_client(&token).hash(), clock.now())
                .await?;
            Ok(json!({"revoked": true}))
        }
    }
}

/// An application as the commands print it: with its secret when it was just created (in the
/// order `app create` documents), with whether it is revoked when listed.
fn app_json(app: &App, client_secret: Option<&str>, with_secret: bool) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("id".into(), json!(app.id));
    out.insert("client_id".into(), json!(app.client_id));
    if with_secret {
        out.insert("client_secret".into(), json!(client_secret));
    }
    out.insert("name".into(), json!(app.name));
    out.insert("redirect_uris".into(), json!(app.redirect_uris));
    out.insert("scopes".into(), json!(app.scopes.to_string()));
    out.insert("confidential".into(), json!(app.confidential()));
    if !with_secret {
        out.insert("revoked".into(), json!(app.revoked_at.is_some()));
    }
    Value::Object(out)
}

pub async fn app(store: &dyn Store, clock: &Clock, command: AppCommand) -> Result<Value> {
    match command {
        AppCommand::Create {
            org,
            name,
            redirect_uris,
            scopes,
            public,
        } => {
            let scopes = Scopes::parse(&scopes)?;
            let registered = giftwire_server::oauth::register_app(
                store,
                OrgId::new(org),
                &name,
                redirect_uris,
                scopes,
                !public,
            )
            .await?;
            Ok(app_json(
                &registered.app,
                registered.client_secret.as_deref(),
                true,
            ))
        }
        AppCommand::List { org } => {
            let apps = store.apps(OrgId::new(org)).await?;
            let apps: Vec<Value> = apps.iter().map(|a| app_json(a, None, false)).collect();
            Ok(json!({ "apps": apps }))
        }
        AppCommand::Revoke { client_id } => {
            let revoked = store.revoke_app(&client_id, clock.now()).await?;
            Ok(json!({"client_id": client_id, "revoked": true, "tokens_revoked": revoked.len()}))
        }
    }
}

pub async fn send(store: &dyn Store, clock: &Clock, command: SendCommand) -> Result<Value> {
    match command {
        SendCommand::Create {
            user,
            touch,
            recipient_name,
            recipient_email,
            company,
            via,
            at,
        } => {
            let recipient = Recipient {
                name: Name::parse("recipient_name", &recipient_name)?.into_string(),
                email: Email::parse("recipient_email", &recipient_email)?.into_string(),
                company_name: company
                    .map(|c| Name::parse("company", &c).map(Name::into_string))
                    .transpose()?,
            };
            let sent_via = Name::parse("via", &via)?.into_string();
            let created_at = match at {
                Some(at) => parse_instant("at", &at)?,
                None => clock.now(),
            };
            let sender = store.user_system_wide(UserId::new(user)).await?;
            let new = NewSend {
                touch: TouchId::new(touch),
                sender: sender.id,
                recipient,
                sent_via,
                created_at,
                cost: None,
            };
            let send = store.create_send(sender.org_id, new).await.map_err(|e| match e {
                giftwire_core::StoreError::NotFound("Touch") => anyhow::anyhow!(
                    "Touch not found: touch {touch} is not one of organization {}, the user's organization",
                    sender.org_id
                ),
                other => other.into(),
            })?;
            let org = store.org(sender.org_id).await?;
            Ok(serde_json::to_value(giftwire_server::render::send(
                &send,
                &org.time_zone,
            ))?)
        }
        SendCommand::Status {
            send,
            status,
            at,
            cost,
        } => {
            let change = StatusChange {
                status: status.parse()?,
                occurred_at: match at {
                    Some(at) => parse_instant("at", &at)?,
                    None => clock.now(),
                },
                cost: cost
                    .map(|c| {
                        c.parse::<Money>()
                            .map_err(|_| giftwire_core::InvalidValue::new("cost", &c))
                    })
                    .transpose()?,
            };
            let id = SendId::new(send);
            let org = store.send_org_system_wide(id).await?;
            let send = store.change_status(org, id, change).await?;
            let org = store.org(org).await?;
            Ok(serde_json::to_value(giftwire_server::render::send(
                &send,
                &org.time_zone,
            ))?)
        }
    }
}

pub async fn outbox(store: &dyn Store, org: Option<OrgId>, limit: u32) -> Result<Value> {
    let fmt = |t: Option<jiff::Timestamp>| t.map(|t| t.to_string());
    let mail: Vec<Value> = store
        .outbox(org, limit)
        .await?
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "org_id": m.org_id,
                "send_id": m.send_id,
                "kind": m.kind,
                "to": m.to,
                "subject": m.subject,
                "text_body": m.text_body,
                "created_at": m.created_at.to_string(),
                "attempts": m.attempts,
                "sent_at": fmt(m.sent_at),
                "failed_at": fmt(m.failed_at),
                "last_error": m.last_error,
            })
        })
        .collect();
    Ok(json!({"mail": mail}))
}
