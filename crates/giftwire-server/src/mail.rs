//! The mail a creation causes: written to the outbox in the creating transaction and
//! delivered later by the worker (see [`crate::worker`]).

use askama::Template;
use giftwire_core::{MailKind, NewMail, TrackingCode};

use crate::error::ApiError;

/// The public addresses of the recipient pages.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

impl Links {
    /// `base` is where recipients reach this server, e.g. `https://gifts.example.com`.
    pub fn new(base: &url::Url) -> Links {
        Links {
            base: base.as_str().trim_end_matches('/').to_owned(),
        }
    }

    /// The eGift page (`tracking_url`).
    pub fn tracking(&self, code: &TrackingCode) -> String {
        format!("{}/track/{}", self.base, code.as_str())
    }

    /// The open-tracking pixel of the eGift mail.
    pub fn pixel(&self, code: &TrackingCode) -> String {
        format!("{}/track/{}/open.gif", self.base, code.as_str())
    }

    /// The address-collection page.
    pub fn address(&self, code: &TrackingCode) -> String {
        format!("{}/address/{}", self.base, code.as_str())
    }

    /// The page where an invited user accepts its invitation.
    pub fn invitation(&self, token: &str) -> String {
        format!("{}/invitations/{token}", self.base)
    }
}

/// The mail inviting a user to an organization: a link to the page that sets its password.
pub fn invitation(
    to: &str,
    first_name: &str,
    inviter: &str,
    org_name: &str,
    link: &str,
    days: i64,
) -> NewMail {
    NewMail {
        kind: MailKind::Invitation,
        to: to.to_owned(),
        subject: format!("{inviter} invited you to {org_name} on giftwire"),
        text_body: format!(
            "Hello {first_name},\n\n{inviter} invited you to send gifts with {org_name}.\n\
             Choose your password to accept: {link}\nThis link expires in {days} days.\n"
        ),
        html_body: None,
    }
}

/// Who sends, and what, as the mail tells it.
pub struct Context<'a> {
    pub org_name: &'a str,
    pub sender_name: &'a str,
    pub touch_name: &'a str,
    pub recipient_name: &'a str,
}

#[derive(Template)]
#[template(path = "mail_egift.html")]
struct EgiftMail<'a> {
    org_name: &'a str,
    sender_name: &'a str,
    touch_name: &'a str,
    custom_message: Option<&'a str>,
    link: &'a str,
    pixel: &'a str,
}

#[derive(Template)]
#[template(path = "mail_address.html")]
struct AddressMail<'a> {
    org_name: &'a str,
    sender_name: &'a str,
    custom_message: Option<&'a str>,
    link: &'a str,
    days: u8,
}

fn render(t: &impl Template) -> Result<String, ApiError> {
    t.render().map_err(|e| ApiError::Internal(Box::new(e)))
}

/// The eGift itself, to its recipient, with the open-tracking pixel.
pub fn egift(
    ctx: &Context<'_>,
    links: &Links,
    code: &TrackingCode,
    to: &str,
    custom_message: Option<&str>,
) -> Result<NewMail, ApiError> {
    let link = links.tracking(code);
    let html = render(&EgiftMail {
        org_name: ctx.org_name,
        sender_name: ctx.sender_name,
        touch_name: ctx.touch_name,
        custom_message,
        link: &link,
        pixel: &links.pixel(code),
    })?;
    let mut text = format!(
        "{} from {} sent you a gift: {}.\n\n",
        ctx.sender_name, ctx.org_name, ctx.touch_name
    );
    if let Some(message) = custom_message {
        text.push_str(message);
        text.push_str("\n\n");
    }
    text.push_str(&format!("Open your gift: {link}\n"));
    Ok(NewMail {
        kind: MailKind::Egift,
        to: to.to_owned(),
        subject: format!("{} sent you a gift", ctx.sender_name),
        text_body: text,
        html_body: Some(html),
    })
}

/// The request to confirm a shipping address: to the recipient (`email` mode), or the link to
/// the sender (`link` mode: the sender forwards it).
pub fn address_request(
    ctx: &Context<'_>,
    links: &Links,
    code: &TrackingCode,
    kind: MailKind,
    to: &str,
    custom_message: Option<&str>,
    days: u8,
) -> Result<NewMail, ApiError> {
    let link = links.address(code);
    if kind == MailKind::AddressLink {
        return Ok(NewMail {
            kind,
            to: to.to_owned(),
            subject: format!("Address collection link for {}", ctx.recipient_name),
            text_body: format!(
                "Share this link with {} so they can confirm where to ship their gift \
                 ({}): {link}\nIt expires in {days} days.\n",
                ctx.recipient_name, ctx.touch_name
            ),
            html_body: None,
        });
    }
    let html = render(&AddressMail {
        org_name: ctx.org_name,
        sender_name: ctx.sender_name,
        custom_message,
        link: &link,
        days,
    })?;
    let mut text = format!(
        "{} from {} would like to send you a gift.\n\n",
        ctx.sender_name, ctx.org_name
    );
    if let Some(message) = custom_message {
        text.push_str(message);
        text.push_str("\n\n");
    }
    text.push_str(&format!(
        "Confirm your shipping address: {link}\nThis link expires in {days} days.\n"
    ));
    Ok(NewMail {
        kind,
        to: to.to_owned(),
        subject: "Where should we ship your gift?".to_owned(),
        text_body: text,
        html_body: Some(html),
    })
}
