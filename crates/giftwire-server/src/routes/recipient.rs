//! The recipient's pages. No token: the tracking code in the path is the credential, and an
//! unknown or malformed code is a plain 404 (nothing tells one from the other).
//!
//! - `GET /track/{code}`: the eGift; the first visit records `Clicked`.
//! - `GET /track/{code}/open.gif`: the mail's tracking pixel; records `Opened`.
//! - `POST /track/{code}/redeem`: records `Used` and shows the redemption code.
//! - `GET /address/{code}`: the address form of an address collection.
//! - `POST /address/{code}/confirm`: records the address and `Processing`.
//! - `POST /address/{code}/decline`: records `Address Confirmation - Cancelled`.
//!
//! Every change goes through the lifecycle, so a repeated visit changes nothing. Forms carry a
//! token that must match a `SameSite=Strict` cookie (double submit) against cross-site forgery.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use giftwire_core::lifecycle::{StatusChange, allowed_next};
use giftwire_core::store::{RecipientSend, SendRecord};
use giftwire_core::{Address, Country, SendStatus, StoreError, TrackingCode, Variant};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use utoipa_axum::routes;

use super::Routes;
use crate::AppState;
use crate::pages::{self, CsrfForm, FormCookie, html, message, not_found};
use crate::query::PathParam;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(egift_page))
        .routes(routes!(open_pixel))
        .routes(routes!(redeem))
        .routes(routes!(address_page))
        .routes(routes!(confirm_address))
        .routes(routes!(decline_address))
}

const FORMS: FormCookie = pages::RECIPIENT_FORMS;

fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        "We cannot open your gift right now. Please try again in a minute.",
    )
}

/// The eGift pages' sends.
const EGIFTS: &[Variant] = &[Variant::Egift, Variant::EgiftLink];
/// The address pages' sends.
const COLLECTIONS: &[Variant] = &[Variant::AddressCollection];

/// The send of a tracking code if it is one of `variants`, or the response to give instead
/// (the same 404 for a malformed, unknown or other-variant code).
async fn find(
    state: &AppState,
    raw: &str,
    variants: &[Variant],
) -> Result<RecipientSend, Response> {
    let code = TrackingCode::parse(raw).ok_or_else(not_found)?;
    match state.store.recipient_send(&code).await {
        Ok(found) if variants.contains(&found.delivery.variant) => Ok(found),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(not_found()),
        Err(e) => {
            tracing::warn!(error = %e, "recipient page: store error");
            Err(unavailable())
        }
    }
}

/// Applies a recipient's change if the lifecycle allows it now; otherwise (already done, or a
/// send in another state) nothing happens. Returns the send as it is afterwards.
async fn record(state: &AppState, found: &RecipientSend, status: SendStatus) -> SendRecord {
    let send = &found.send;
    if !allowed_next(send.touch.send_type.kind(), &send.history).contains(&status) {
        return send.clone();
    }
    let last = send.last_change_at();
    let change = StatusChange {
        status,
        occurred_at: state.clock.now().max(last),
        cost: None,
    };
    match state
        .store
        .change_status(found.org_id, send.id, change)
        .await
    {
        Ok(after) => after,
        // A concurrent visit made the change first.
        Err(StoreError::Lifecycle(_)) => send.clone(),
        Err(e) => {
            tracing::warn!(error = %e, status = %status, "recipient change not recorded");
            send.clone()
        }
    }
}

fn forbidden() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "Please go back, reload the page and try again.",
    )
}

#[derive(Template)]
#[template(path = "egift.html")]
struct EgiftPage<'a> {
    org_name: &'a str,
    sender_name: &'a str,
    touch_name: &'a str,
    custom_message: Option<&'a str>,
    status: &'a str,
    redeemed: bool,
    redeemable: bool,
    redemption_code: String,
    redeem_action: String,
    csrf: &'a str,
}

/// The code shown once an eGift is redeemed, derived from its tracking code.
fn redemption_code(code: &TrackingCode) -> String {
    let digest = Sha256::digest(format!("redeem:{}", code.as_str()).as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02X}")).collect();
    hex.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[utoipa::path(
    get,
    path = "/track/{code}",
    tag = "Recipient pages",
    operation_id = "egift_page",
    summary = "The eGift page",
    description = "The recipient's eGift, with its redemption form; the first visit records `Clicked`.",
    params(("code" = String, Path, description = "The tracking code of the send (the credential: no token)")),
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html"),
        (status = 404, description = "The code names no send of this kind (unknown and malformed codes alike)", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
    ),
)]
async fn egift_page(
    State(state): State<AppState>,
    PathParam(raw): PathParam,
    jar: CookieJar,
) -> Response {
    let found = match find(&state, &raw, EGIFTS).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let send = record(&state, &found, SendStatus::Clicked).await;
    let status = send.status();
    let (jar, csrf) = FORMS.token(jar, false);
    let page = EgiftPage {
        org_name: &found.org_name,
        sender_name: &send.sender.name,
        touch_name: &send.touch.name,
        custom_message: found.delivery.custom_message.as_deref(),
        status: status.as_str(),
        redeemed: status == SendStatus::Used,
        redeemable: allowed_next(send.touch.send_type.kind(), &send.history)
            .contains(&SendStatus::Used),
        redemption_code: redemption_code(&found.delivery.tracking_code),
        redeem_action: format!("/track/{}/redeem", found.delivery.tracking_code.as_str()),
        csrf: &csrf,
    };
    match page.render() {
        Ok(body) => (jar, html(StatusCode::OK, body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the eGift page");
            unavailable()
        }
    }
}

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

#[utoipa::path(
    get,
    path = "/track/{code}/open.gif",
    tag = "Recipient pages",
    operation_id = "open_pixel",
    summary = "The tracking pixel",
    description = "A transparent 1x1 GIF in the eGift mail; loading it records `Opened`.",
    params(("code" = String, Path, description = "The tracking code of the send (the credential: no token)")),
    responses(
        (status = 200, description = "The pixel", content_type = "image/gif"),
        (status = 404, description = "The code names no eGift (no body)"),
        (status = 503, description = "The send cannot be read right now (no body)"),
    ),
)]
async fn open_pixel(State(state): State<AppState>, PathParam(raw): PathParam) -> Response {
    match find(&state, &raw, EGIFTS).await {
        Ok(found) => {
            record(&state, &found, SendStatus::Opened).await;
        }
        Err(response) => return response.status().into_response(),
    }
    (
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PIXEL,
    )
        .into_response()
}

#[utoipa::path(
    post,
    path = "/track/{code}/redeem",
    tag = "Recipient pages",
    operation_id = "redeem_egift",
    summary = "Redeem the eGift",
    description = "The eGift page's form: records `Used`, then back to the page (which shows the redemption code).",
    params(("code" = String, Path, description = "The tracking code of the send (the credential: no token)")),
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To the eGift page", headers(("Location" = String))),
        (status = 403, description = "The form has expired (its token does not match the form cookie)", body = String, content_type = "text/html"),
        (status = 404, description = "The code names no send of this kind (unknown and malformed codes alike)", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
        crate::pages::FormRejections,
    ),
)]
async fn redeem(
    State(state): State<AppState>,
    PathParam(raw): PathParam,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !FORMS.accepts(&jar, &form.csrf) {
        return forbidden();
    }
    let found = match find(&state, &raw, EGIFTS).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    record(&state, &found, SendStatus::Used).await;
    Redirect::to(&format!("/track/{}", found.delivery.tracking_code.as_str())).into_response()
}

#[derive(Template)]
#[template(path = "address.html")]
struct AddressPage<'a> {
    org_name: &'a str,
    sender_name: &'a str,
    touch_name: Option<&'a str>,
    custom_message: Option<&'a str>,
    open: bool,
    outcome: &'a str,
    error: Option<&'a str>,
    form: AddressForm,
    countries: Vec<String>,
    confirm_action: String,
    decline_action: String,
    csrf: &'a str,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
struct AddressForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    zip: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    mobile_no: String,
}

fn waiting_for_address(send: &SendRecord) -> bool {
    matches!(
        send.status(),
        SendStatus::ConfirmingAddress | SendStatus::CollectingRecipientInfo
    )
}

/// The countries the send's touch ships to: the choices of the address form.
async fn ship_to(state: &AppState, found: &RecipientSend) -> Result<Vec<Country>, Response> {
    match state.store.touch(found.org_id, found.send.touch.id).await {
        Ok(touch) => Ok(touch.ship_to.countries().to_vec()),
        Err(e) => {
            tracing::warn!(error = %e, "address page: touch not read");
            Err(unavailable())
        }
    }
}

fn render_address(
    found: &RecipientSend,
    countries: &[Country],
    jar: CookieJar,
    status: StatusCode,
    form: AddressForm,
    error: Option<&str>,
) -> Response {
    let send = &found.send;
    let countries = countries.iter().map(|c| c.as_str().to_owned()).collect();
    let outcome = match send.status() {
        SendStatus::Processing
        | SendStatus::Packed
        | SendStatus::Shipped
        | SendStatus::Delivered => {
            "Thank you! Your address is confirmed and your gift is on its way."
        }
        SendStatus::AddressConfirmationCancelled => {
            "This request is closed: the gift will not be sent."
        }
        _ => "This request is closed.",
    };
    let (jar, csrf) = FORMS.token(jar, false);
    let hide = found
        .delivery
        .collection
        .as_ref()
        .is_some_and(|c| c.hide_product_info);
    let code = found.delivery.tracking_code.as_str();
    let page = AddressPage {
        org_name: &found.org_name,
        sender_name: &send.sender.name,
        touch_name: (!hide).then_some(send.touch.name.as_str()),
        custom_message: found
            .delivery
            .collection
            .as_ref()
            .and_then(|c| c.custom_message.as_deref()),
        open: waiting_for_address(send),
        outcome,
        error,
        form,
        countries,
        confirm_action: format!("/address/{code}/confirm"),
        decline_action: format!("/address/{code}/decline"),
        csrf: &csrf,
    };
    match page.render() {
        Ok(body) => (jar, html(status, body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the address page");
            unavailable()
        }
    }
}

#[utoipa::path(
    get,
    path = "/address/{code}",
    tag = "Recipient pages",
    operation_id = "address_page",
    summary = "The address form",
    description = "The form where the recipient of a physical gift gives (or declines to give) the address; once done, what was decided.",
    params(("code" = String, Path, description = "The tracking code of the send (the credential: no token)")),
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html"),
        (status = 404, description = "The code names no send of this kind (unknown and malformed codes alike)", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
    ),
)]
async fn address_page(
    State(state): State<AppState>,
    PathParam(raw): PathParam,
    jar: CookieJar,
) -> Response {
    let found = match find(&state, &raw, COLLECTIONS).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match ship_to(&state, &found).await {
        Ok(countries) => render_address(
            &found,
            &countries,
            jar,
            StatusCode::OK,
            AddressForm::default(),
            None,
        ),
        Err(response) => response,
    }
}

/// The address of a posted form, or what is wrong with it.
fn parse_address(form: &AddressForm, countries: &[Country]) -> Result<Address, &'static str> {
    let required = [&form.address, &form.city, &form.state, &form.zip];
    if required.iter().any(|v| v.trim().is_empty()) {
        return Err("Please fill in every field of the address.");
    }
    if [
        &form.address,
        &form.city,
        &form.state,
        &form.zip,
        &form.mobile_no,
    ]
    .iter()
    .any(|v| v.chars().count() > 200 || v.chars().any(char::is_control))
    {
        return Err("Please check the address: a field is too long or holds invalid characters.");
    }
    let country = Country::parse("country", &form.country)
        .ok()
        .filter(|c| countries.contains(c))
        .ok_or("Please choose a country from the list.")?;
    let mobile_no = Some(form.mobile_no.trim().to_owned()).filter(|m| !m.is_empty());
    if country.as_str() != "US" && mobile_no.is_none() {
        return Err("A mobile number is needed for deliveries outside the US.");
    }
    Ok(Address {
        line: form.address.trim().to_owned(),
        city: form.city.trim().to_owned(),
        state: form.state.trim().to_owned(),
        zip: form.zip.trim().to_owned(),
        country,
        mobile_no,
    })
}

#[utoipa::path(
    post,
    path = "/address/{code}/confirm",
    tag = "Recipient pages",
    operation_id = "confirm_address",
    summary = "Confirm the address",
    description = "Records the address (to a country the touch ships to) and `Processing`, then back to the page.",
    params(("code" = String, Path, description = "The tracking code of the send (the credential: no token)")),
    request_body(content = AddressForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To the address page", headers(("Location" = String))),
        (status = 400, description = "The form again, saying what is missing or invalid", body = String, content_type = "text/html"),
        (status = 403, description = "The form has expired (its token does not match the form cookie)", body = String, content_type = "text/html"),
        (status = 404, description = "The code names no send of this kind (unknown and malformed codes alike)", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
        crate::pages::FormRejections,
    ),
)]
async fn confirm_address(
    State(state): State<AppState>,
    PathParam(raw): PathParam,
    jar: CookieJar,
    Form(form): Form<AddressForm>,
) -> Response {
    if !FORMS.accepts(&jar, &form.csrf) {
        return forbidden();
    }
    let found = match find(&state, &raw, COLLECTIONS).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let code = found.delivery.tracking_code.as_str().to_owned();
    if !waiting_for_address(&found.send) {
        return Redirect::to(&format!("/address/{code}")).into_response();
    }
    let countries = match ship_to(&state, &found).await {
        Ok(countries) => countries,
        Err(response) => return response,
    };
    let address = match parse_address(&form, &countries) {
        Ok(address) => address,
        Err(problem) => {
            return render_address(
                &found,
                &countries,
                jar,
                StatusCode::BAD_REQUEST,
                form,
                Some(problem),
            );
        }
    };
    let at = state.clock.now().max(found.send.last_change_at());
    match state
        .store
        .confirm_address(found.org_id, found.send.id, address, at)
        .await
    {
        Ok(_) | Err(StoreError::Lifecycle(_)) => {
            Redirect::to(&format!("/address/{code}")).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "address confirmation not recorded");
            unavailable()
        }
    }
}

#[utoipa::path(
    post,
    path = "/address/{code}/decline",
    tag = "Recipient pages",
    operation_id = "decline_address",
    summary = "Decline the gift",
    description = "Records `Address Confirmation - Cancelled`, then back to the page.",
    params(("code" = String, Path, description = "The tracking code of the send (the credential: no token)")),
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To the address page", headers(("Location" = String))),
        (status = 403, description = "The form has expired (its token does not match the form cookie)", body = String, content_type = "text/html"),
        (status = 404, description = "The code names no send of this kind (unknown and malformed codes alike)", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
        crate::pages::FormRejections,
    ),
)]
async fn decline_address(
    State(state): State<AppState>,
    PathParam(raw): PathParam,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !FORMS.accepts(&jar, &form.csrf) {
        return forbidden();
    }
    let found = match find(&state, &raw, COLLECTIONS).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    record(&state, &found, SendStatus::AddressConfirmationCancelled).await;
    Redirect::to(&format!(
        "/address/{}",
        found.delivery.tracking_code.as_str()
    ))
    .into_response()
}
