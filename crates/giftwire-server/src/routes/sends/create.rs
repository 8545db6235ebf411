//! Create Send (`POST /api/v3/send`, three variants chosen by `via` and `no_address`) and
//! Generate eGift Links (`POST /api/v3/send/generate_egift_links`), with `Idempotency-Key`
//! (CONTRACT.md §7). A request is validated in full before anything is written; the send, its
//! delivery, initial status, mail and deadlines are then written in one transaction.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use giftwire_core::store::{
    Created, IdempotencyClaim, NewSend, Principal, Recipient, SendOrder, Touch,
};
use giftwire_core::{
    Address, AddressCollection, ConfirmVia, Country, Delivery, Email, MailKind, Name, Scope,
    SendKind, SendStatus, TouchId, TrackingCode, Variant,
};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Authenticated;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, json_response};
use crate::mail;

/// The documented `via` values.
const VIA_PHYSICAL: &str = "single_person_or_company";
const VIA_EGIFT: &str = "single_email_address";
const VIA_LINKS: &str = "generate_egift_links";

/// The validated `Idempotency-Key` of a request, with the hash of what it asks.
fn idempotency_claim(
    state: &AppState,
    headers: &HeaderMap,
    body: &JsonBody,
    scope: &str,
) -> Result<Option<IdempotencyClaim>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| ApiError::invalid("Idempotency-Key"))?;
    Ok(Some(IdempotencyClaim {
        key: key.to_owned(),
        request_hash: body.hash(scope),
        at: state.clock.now(),
    }))
}

fn email(fields: &Fields<'_>, name: &str) -> Result<String, ApiError> {
    let raw = fields.string(name)?;
    Email::parse("email", raw)
        .map(Email::into_string)
        .map_err(|_| ApiError::invalid(name))
}

fn text(fields: &Fields<'_>, name: &str) -> Result<Option<String>, ApiError> {
    Ok(fields.opt_string(name)?.map(str::to_owned))
}

fn required_name(fields: &Fields<'_>, name: &str) -> Result<String, ApiError> {
    let raw = fields.string(name)?;
    Name::parse("name", raw)
        .map(Name::into_string)
        .map_err(|_| ApiError::invalid(name))
}

/// A Create Send request, validated.
struct CreateRequest {
    touch_id: TouchId,
    via_from: String,
    recipient_name: String,
    recipient_email: String,
    custom_message: Option<String>,
    kind: RequestKind,
}

enum RequestKind {
    Physical(Address),
    Collection(AddressCollection),
    Egift,
}

impl CreateRequest {
    /// Reads the fields of one of the three variants, in the documented order; the first
    /// missing or invalid field is the answer.
    fn parse(send: &Fields<'_>) -> Result<CreateRequest, ApiError> {
        let via = send.string("via")?;
        if via != VIA_PHYSICAL && via != VIA_EGIFT {
            return Err(ApiError::invalid("via"));
        }
        let via_from = Name::parse("via_from", send.string("via_from")?)
            .map_err(|_| ApiError::invalid("via_from"))?
            .into_string();
        let touch_id = TouchId::new(send.integer("touch_id")?);
        if via == VIA_EGIFT {
            let recipient_email = email(send, "email")?;
            let recipient_name = match send.opt_string("name")? {
                Some(name) => Name::parse("name", name)
                    .map_err(|_| ApiError::invalid("name"))?
                    .into_string(),
                None => recipient_email.clone(),
            };
            return Ok(CreateRequest {
                touch_id,
                via_from,
                recipient_name,
                recipient_email,
                custom_message: text(send, "custom_message")?,
                kind: RequestKind::Egift,
            });
        }
        let recipient_name = required_name(send, "name")?;
        let recipient_email = email(send, "email")?;
        let custom_message = text(send, "custom_message")?;
        let no_address = send.opt_boolean("no_address")?.unwrap_or(false);
        let confirm_address = send.boolean("confirm_address")?;
        let kind = if no_address {
            if !confirm_address {
                return Err(ApiError::invalid("confirm_address"));
            }
            let via: ConfirmVia = send
                .string("address_confirmation_via")?
                .parse()
                .map_err(|_| ApiError::invalid("address_confirmation_via"))?;
            let resume_with_unconfirmed_address =
                send.boolean("resume_with_unconfirmed_address")?;
            let days = send.integer("expire_after_days")?;
            if !(2..=7).contains(&days) {
                return Err(ApiError::invalid("expire_after_days"));
            }
            let hide_product_info = send.boolean("hide_product_info")?;
            RequestKind::Collection(AddressCollection {
                via,
                expire_after_days: days as u8,
                resume_with_unconfirmed_address,
                hide_product_info,
                custom_message: text(send, "address_confirmation_custom_message")?,
            })
        } else {
            let line = send.string("address")?.to_owned();
            let city = send.string("city")?.to_owned();
            let state = send.string("state")?.to_owned();
            let zip = send.string("zip")?.to_owned();
            let country = Country::parse("country", send.string("country")?)
                .map_err(|_| ApiError::invalid("country"))?;
            let mobile_no = send.opt_phone("mobile_no")?;
            if country.as_str() != "US" && mobile_no.is_none() {
                return Err(ApiError::blank("mobile_no"));
            }
            RequestKind::Physical(Address {
                line,
                city,
                state,
                zip,
                country,
                mobile_no,
            })
        };
        Ok(CreateRequest {
            touch_id,
            via_from,
            recipient_name,
            recipient_email,
            custom_message,
            kind,
        })
    }
}

/// The touch a send is made from: the organization's, active, within its dates (in the
/// organization's time zone), and of the kind the variant needs.
async fn open_touch(
    state: &AppState,
    principal: &Principal,
    id: TouchId,
    kind: SendKind,
) -> Result<Touch, ApiError> {
    let touch = state.store.touch(principal.org_id, id).await?;
    let today = principal.time_zone.date_of(state.clock.now());
    if !touch.open_on(today) {
        return Err(ApiError::NotFound("Touch"));
    }
    if touch.send_type.kind() != kind {
        return Err(ApiError::BadRequest(format!(
            "touch_id is invalid: touch {id} is a {} campaign, which this variant cannot send",
            touch.send_type
        )));
    }
    Ok(touch)
}

/// Names shown in mail and on recipient pages.
struct Sender {
    org_name: String,
    user_name: String,
    user_email: String,
    egift_expiry_days: u32,
}

async fn sender(state: &AppState, principal: &Principal) -> Result<Sender, ApiError> {
    let org = state.store.org(principal.org_id).await?;
    let user = state.store.user_system_wide(principal.user_id).await?;
    Ok(Sender {
        org_name: org.name,
        user_name: user.name,
        user_email: user.email,
        egift_expiry_days: org.egift_expiry_days,
    })
}

fn new_send(
    touch: &Touch,
    principal: &Principal,
    state: &AppState,
    name: String,
    email: String,
    via_from: &str,
) -> NewSend {
    NewSend {
        touch: touch.id,
        sender: principal.user_id,
        recipient: Recipient {
            name,
            email,
            company_name: None,
        },
        sent_via: via_from.to_owned(),
        created_at: state.clock.now(),
        cost: None,
    }
}

/// The answer of a creation, replayed or not: 200, plus `Idempotent-Replayed: true` for a replay.
fn answer(created: &Created, body: Value) -> Response {
    let mut response = json_response(StatusCode::OK, &body);
    if created.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// `POST /api/v3/send`.
#[utoipa::path(
    post,
    path = "/api/v3/send",
    tag = "Sends",
    operation_id = "create_send",
    summary = "Create Send",
    description = "Sends a gift from a touch: a physical gift to an address, a physical gift \
        whose address the recipient confirms (by email or by link), or an eGift by email. The \
        cost is taken from the sender's balance. With an `Idempotency-Key` (a giftwire addition), \
        a retry of the same request answers as the first did (`Idempotent-Replayed: true`) and \
        creates nothing more.",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes retries safe (a giftwire addition): up to 255 bytes of visible ASCII (spaces around it ignored)")),
    request_body = giftwire_api::CreateSend,
    security(("oauth2" = ["write"])),
    responses(
        (status = 200, description = "Created (or, for a replayed key, created before)", body = giftwire_api::SendCreated,
            headers(("Idempotent-Replayed" = String, description = "`true` when the answer is a replay"))),
        (status = 400, description = "A field is missing or invalid, or the balance does not cover the cost", body = giftwire_api::ErrorBody),
        (status = 404, description = "No open touch of the organization has this `touch_id`", body = giftwire_api::ErrorBody),
        (status = 409, description = "The `Idempotency-Key` was used for another request, or its first request is still in progress", body = giftwire_api::ErrorBody),
    ),
)]
pub(super) async fn create_send(
    auth: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Write)?;
    let claim = idempotency_claim(&state, &headers, &body, "POST /api/v3/send")?;
    let request = CreateRequest::parse(&body.object("send")?)?;
    let kind = match request.kind {
        RequestKind::Egift => SendKind::Digital,
        _ => SendKind::Physical,
    };
    let touch = open_touch(&state, principal, request.touch_id, kind).await?;
    if let RequestKind::Physical(address) = &request.kind
        && !touch.ship_to.contains(address.country)
    {
        return Err(ApiError::BadRequest(format!(
            "country is invalid: touch {} ships to {} only",
            touch.id, touch.ship_to
        )));
    }
    let sender = sender(&state, principal).await?;
    let links = mail::Links::new(&state.public_url);
    let ctx = mail::Context {
        org_name: &sender.org_name,
        sender_name: &sender.user_name,
        touch_name: &touch.name,
        recipient_name: &request.recipient_name,
    };
    let code = TrackingCode::generate();
    let send = new_send(
        &touch,
        principal,
        &state,
        request.recipient_name.clone(),
        request.recipient_email.clone(),
        &request.via_from,
    );
    let (variant, address, collection, initial_status, mail) = match request.kind {
        RequestKind::Physical(address) => (Variant::Physical, Some(address), None, None, vec![]),
        RequestKind::Egift => {
            let mail = mail::egift(
                &ctx,
                &links,
                &code,
                &request.recipient_email,
                request.custom_message.as_deref(),
            )?;
            (
                Variant::Egift,
                None,
                None,
                Some(SendStatus::Sent),
                vec![mail],
            )
        }
        RequestKind::Collection(collection) => {
            let (kind, to) = match collection.via {
                ConfirmVia::Email => (
                    MailKind::AddressConfirmation,
                    request.recipient_email.as_str(),
                ),
                ConfirmVia::Link => (MailKind::AddressLink, sender.user_email.as_str()),
            };
            let mail = mail::address_request(
                &ctx,
                &links,
                &code,
                kind,
                to,
                collection.custom_message.as_deref(),
                collection.expire_after_days,
            )?;
            (
                Variant::AddressCollection,
                None,
                Some(collection),
                Some(SendStatus::ConfirmingAddress),
                vec![mail],
            )
        }
    };
    let order = SendOrder {
        send,
        delivery: Delivery {
            tracking_code: code,
            variant,
            custom_message: request.custom_message,
            address,
            collection,
        },
        initial_status,
        mail,
    };
    let created = state
        .store
        .create_api_sends(principal.org_id, vec![order], claim)
        .await?;
    let first = created
        .sends
        .first()
        .ok_or_else(|| ApiError::Internal("a creation without a send".into()))?;
    let code = &first.delivery.tracking_code;
    let body = match first.delivery.variant {
        Variant::Egift | Variant::EgiftLink => json!({
            "success": true,
            "message": "EGifts send Successfully",
            "tracking_code": code.as_str(),
            "tracking_url": links.tracking(code),
        }),
        Variant::AddressCollection
            if first
                .delivery
                .collection
                .as_ref()
                .is_some_and(|c| c.via == ConfirmVia::Link) =>
        {
            json!({
                "success": true,
                "message": "Gift send Successfully",
                "tracking_code": code.as_str(),
                "address_confirmation_link": links.address(code),
            })
        }
        _ => json!({
            "success": true,
            "message": "Gift send Successfully",
            "tracking_code": code.as_str(),
        }),
    };
    Ok(answer(&created, body))
}

/// `POST /api/v3/send/generate_egift_links`: one eGift send per recipient, each with its link.
#[utoipa::path(
    post,
    path = "/api/v3/send/generate_egift_links",
    tag = "Sends",
    operation_id = "generate_egift_links",
    summary = "Generate eGift Links",
    description = "One eGift send per recipient, each with its link to hand out (no email is \
        sent). `Idempotency-Key` as for Create Send.",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes retries safe (a giftwire addition): up to 255 bytes of visible ASCII (spaces around it ignored)")),
    request_body = giftwire_api::GenerateEgiftLinks,
    security(("oauth2" = ["write"])),
    responses(
        (status = 200, description = "The links", body = giftwire_api::EgiftLinks,
            headers(("Idempotent-Replayed" = String, description = "`true` when the answer is a replay"))),
        (status = 400, description = "A field is missing or invalid, or the balance does not cover the cost", body = giftwire_api::ErrorBody),
        (status = 404, description = "No open touch of the organization has this `touch_id`", body = giftwire_api::ErrorBody),
        (status = 409, description = "The `Idempotency-Key` was used for another request, or its first request is still in progress", body = giftwire_api::ErrorBody),
    ),
)]
pub(super) async fn generate_egift_links(
    auth: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Write)?;
    let claim = idempotency_claim(
        &state,
        &headers,
        &body,
        "POST /api/v3/send/generate_egift_links",
    )?;
    let send = body.object("send")?;
    if send.string("via")? != VIA_LINKS {
        return Err(ApiError::invalid("via"));
    }
    let via_from = Name::parse("via_from", send.string("via_from")?)
        .map_err(|_| ApiError::invalid("via_from"))?
        .into_string();
    let touch_id = TouchId::new(send.integer("touch_id")?);
    let recipients = send
        .objects("recipient_users")?
        .iter()
        .map(|r| email(r, "email").map_err(|_| ApiError::invalid("recipient_users")))
        .collect::<Result<Vec<_>, _>>()?;
    if recipients.len() > 1_000 {
        return Err(ApiError::BadRequest(
            "recipient_users is invalid: at most 1,000 recipients per request".to_owned(),
        ));
    }
    let touch = open_touch(&state, principal, touch_id, SendKind::Digital).await?;
    let sender = sender(&state, principal).await?;
    let orders = recipients
        .into_iter()
        .map(|email| SendOrder {
            send: new_send(&touch, principal, &state, email.clone(), email, &via_from),
            delivery: Delivery {
                tracking_code: TrackingCode::generate(),
                variant: Variant::EgiftLink,
                custom_message: None,
                address: None,
                collection: None,
            },
            initial_status: Some(SendStatus::Sent),
            mail: vec![],
        })
        .collect();
    let created = state
        .store
        .create_api_sends(principal.org_id, orders, claim)
        .await?;
    let links = mail::Links::new(&state.public_url);
    let egift_links: Vec<Value> = created
        .sends
        .iter()
        .map(|c| {
            json!({
                "egift_link": links.tracking(&c.delivery.tracking_code),
                "recipient_email_or_phone_number": c.send.recipient.email,
            })
        })
        .collect();
    let body = json!({
        "success": true,
        "message": format!("Success! Here are your {} eGift Card links:", egift_links.len()),
        "egift_links": egift_links,
        "expiration_days": sender.egift_expiry_days,
    });
    Ok(answer(&created, body))
}
