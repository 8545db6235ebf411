//! SCIM `Users`: list (with `startIndex`, `count` and `filter`), get, create, replace (PUT, which
//! sets the attributes it carries, as Sendoso documents it), PATCH and delete.
//!
//! A user is edited as a [`Doc`]: what SCIM shows of it. Creating, replacing and patching all
//! build a document and write it whole, so the three agree on every attribute.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use giftwire_api::scim as api;
use giftwire_core::scim::{Attr, AttrValue, Filter, Filterable};
use giftwire_core::store::{ScimEmail, ScimUser, ScimUserData, UserType};
use giftwire_core::{Email, OrgId, Role, UserId, UserState};
use serde_json::{Map, Value};

use super::{BASE, ScimAuth, ScimError, patch, scim_json};
use crate::AppState;
use crate::body::JsonBody;
use crate::query::PathParam;

/// The most users one list answers (and its default), as Sendoso documents.
pub const MAX_COUNT: u64 = 100;
/// The longest string attribute accepted.
const MAX_CHARS: usize = 255;

/// What SCIM shows and sets of a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Doc {
    pub user_name: String,
    pub given: String,
    pub family: String,
    pub emails: Option<Vec<ScimEmail>>,
    /// `None`: not shown (the user is active).
    pub active: Option<bool>,
    pub user_type: Option<UserType>,
    pub division: Option<String>,
    pub external_id: Option<String>,
    /// Which of `active`, `userType` and `division` the request set or removed: the others keep
    /// the user's state, role and team as they are (an invited user stays invited, a manager a
    /// manager, a member of one of two teams of the same name in its team).
    pub touched: Touched,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Touched {
    pub active: bool,
    pub user_type: bool,
    pub division: bool,
}

/// An attribute a document has, by its SCIM name (any case, with or without a schema URN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    UserName,
    Name,
    GivenName,
    FamilyName,
    Emails,
    Active,
    UserType,
    Division,
    ExternalId,
    /// `id`, `meta`, `schemas`: set by the server.
    ReadOnly,
}

impl Field {
    pub fn parse(name: &str) -> Option<Field> {
        let lower = name.trim().to_ascii_lowercase();
        let lower = lower
            .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:")
            .or_else(|| {
                lower.strip_prefix("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:")
            })
            .unwrap_or(&lower);
        Some(match lower {
            "username" => Field::UserName,
            "name" => Field::Name,
            "name.givenname" => Field::GivenName,
            "name.familyname" => Field::FamilyName,
            "emails" => Field::Emails,
            "active" => Field::Active,
            "usertype" => Field::UserType,
            "division" => Field::Division,
            "externalid" => Field::ExternalId,
            "id" | "meta" | "schemas" => Field::ReadOnly,
            _ => return None,
        })
    }
}

fn invalid(what: &str) -> ScimError {
    ScimError::bad("invalidValue", format!("{what} is invalid"))
}

/// A string attribute: at most [`MAX_CHARS`] characters, no control characters.
fn text(what: &str, value: &Value) -> Result<String, ScimError> {
    match value {
        Value::String(s) if s.chars().count() <= MAX_CHARS && !s.chars().any(char::is_control) => {
            Ok(s.clone())
        }
        _ => Err(invalid(what)),
    }
}

fn opt_text(what: &str, value: &Value) -> Result<Option<String>, ScimError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        other => text(what, other).map(Some),
    }
}

/// A boolean, also as the strings identity providers send (`"True"`, `"false"`).
pub(super) fn boolean(what: &str, value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid(what)),
    }
}

pub(super) fn email(value: &Value) -> Result<ScimEmail, ScimError> {
    let Value::Object(map) = value else {
        return Err(invalid("emails"));
    };
    let get = |k: &str| {
        map.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    };
    Ok(ScimEmail {
        value: text(
            "emails.value",
            get("value").ok_or_else(|| invalid("emails.value"))?,
        )?,
        kind: get("type")
            .map(|v| opt_text("emails.type", v))
            .transpose()?
            .flatten(),
        primary: match get("primary") {
            None | Some(Value::Null) => None,
            Some(v) => Some(boolean("emails.primary", v)?),
        },
    })
}

impl Doc {
    pub fn of(user: &ScimUser) -> Doc {
        let active = user.user.state == UserState::Active;
        Doc {
            user_name: user.user_name.clone(),
            given: user.user.first_name.clone(),
            family: user.user.last_name.clone(),
            // A user no provider gave emails shows its email as its work email.
            emails: Some(user.emails.clone().unwrap_or_else(|| {
                vec![ScimEmail {
                    value: user.user.email.clone(),
                    kind: Some("work".to_owned()),
                    primary: Some(true),
                }]
            })),
            active: user.active_shown.then_some(active),
            user_type: user.user_type,
            division: user.team_name.clone(),
            external_id: user.external_id.clone(),
            touched: Touched::default(),
        }
    }

    /// Sets one attribute; `merge` (a PATCH `add`) adds to `name` and `emails` rather than
    /// replacing them.
    pub fn set(&mut self, field: Field, value: &Value, merge: bool) -> Result<(), ScimError> {
        match field {
            Field::UserName => {
                let name = text("userName", value)?;
                if name.trim().is_empty() {
                    return Err(ScimError::bad("invalidValue", "userName can't be blank"));
                }
                self.user_name = name;
            }
            Field::Name => {
                let Value::Object(map) = value else {
                    return Err(invalid("name"));
                };
                if !merge {
                    self.given.clear();
                    self.family.clear();
                }
                for (key, v) in map {
                    if let Some(sub @ (Field::GivenName | Field::FamilyName)) =
                        Field::parse(&format!("name.{key}"))
                    {
                        self.set(sub, v, merge)?;
                    }
                }
            }
            Field::GivenName => self.given = opt_text("name.givenName", value)?.unwrap_or_default(),
            Field::FamilyName => {
                self.family = opt_text("name.familyName", value)?.unwrap_or_default()
            }
            Field::Emails => {
                let given = match value {
                    Value::Array(items) => {
                        items.iter().map(email).collect::<Result<Vec<_>, _>>()?
                    }
                    Value::Object(_) => vec![email(value)?],
                    Value::Null => Vec::new(),
                    _ => return Err(invalid("emails")),
                };
                self.emails = match (merge, self.emails.take()) {
                    (true, Some(mut current)) => {
                        current.extend(given);
                        Some(current)
                    }
                    _ => (!given.is_empty()).then_some(given),
                };
            }
            Field::Active => {
                self.active = Some(boolean("active", value)?);
                self.touched.active = true;
            }
            Field::UserType => {
                self.touched.user_type = true;
                self.user_type = match opt_text("userType", value)? {
                    None => None,
                    Some(t) => Some(UserType::parse_loose(&t).ok_or_else(|| {
                        ScimError::bad(
                            "invalidValue",
                            format!("userType must be sender, manager or admin (got {t:?})"),
                        )
                    })?),
                }
            }
            Field::Division => {
                self.division = opt_text("division", value)?;
                self.touched.division = true;
            }
            Field::ExternalId => self.external_id = opt_text("externalId", value)?,
            Field::ReadOnly => {}
        }
        Ok(())
    }

    pub fn remove(&mut self, field: Field) -> Result<(), ScimError> {
        match field {
            Field::UserName => {
                return Err(ScimError::bad(
                    "mutability",
                    "userName is required and cannot be removed",
                ));
            }
            Field::Name => {
                self.given.clear();
                self.family.clear();
            }
            Field::GivenName => self.given.clear(),
            Field::FamilyName => self.family.clear(),
            Field::Emails => self.emails = None,
            // Not shown any more; the user keeps its state.
            Field::Active => self.active = None,
            Field::UserType => {
                self.user_type = None;
                self.touched.user_type = true;
            }
            Field::Division => {
                self.division = None;
                self.touched.division = true;
            }
            Field::ExternalId => self.external_id = None,
            Field::ReadOnly => {
                return Err(ScimError::bad(
                    "mutability",
                    "id, meta and schemas cannot change",
                ));
            }
        }
        Ok(())
    }

    /// Sets every attribute a resource body carries; others (and unknown ones) are left as they
    /// are. The enterprise extension's `division` counts as `division`.
    pub fn set_all(&mut self, body: &Map<String, Value>) -> Result<(), ScimError> {
        for (key, value) in body {
            if key.eq_ignore_ascii_case(api::ENTERPRISE_SCHEMA) {
                if let Value::Object(ext) = value {
                    for (k, v) in ext {
                        if k.eq_ignore_ascii_case("division") {
                            self.set(Field::Division, v, false)?;
                        }
                    }
                }
                continue;
            }
            if let Some(field) = Field::parse(key) {
                self.set(field, value, false)?;
            }
        }
        Ok(())
    }

    /// The user's email: its primary email, or its first, or its userName (whichever is an
    /// address first), or `current` when the document names none.
    fn email(&self, current: Option<&str>) -> Result<Email, ScimError> {
        let emails = self.emails.as_deref().unwrap_or_default();
        let primary = emails.iter().filter(|e| e.primary == Some(true));
        primary
            .chain(emails.iter())
            .map(|e| e.value.as_str())
            .chain([self.user_name.as_str()])
            .chain(current)
            .find_map(|candidate| Email::parse("email", candidate).ok())
            .ok_or_else(|| {
                ScimError::bad(
                    "invalidValue",
                    "a user needs an email address: in emails or as its userName",
                )
            })
    }

    /// What the store writes for the document of `current` (none for a new user), with
    /// `division` resolved to a team of the organization.
    pub async fn resolve(
        &self,
        state: &AppState,
        org: OrgId,
        current: Option<&ScimUser>,
    ) -> Result<ScimUserData, ScimError> {
        if self.user_name.trim().is_empty() {
            return Err(ScimError::bad("invalidValue", "userName can't be blank"));
        }
        let team = match (current, &self.division) {
            (Some(current), _) if !self.touched.division => current.user.team_id,
            (_, None) => None,
            (_, Some(name)) => Some(state.store.team_named(org, name).await?.ok_or_else(|| {
                ScimError::bad(
                    "invalidValue",
                    format!("division {name:?} is not a team group of the organization"),
                )
            })?),
        };
        let role = match (self.user_type, current) {
            (Some(t), _) if self.touched.user_type || current.is_none() => t.role(),
            (_, Some(current)) => current.user.role,
            (_, None) => Role::Regular,
        };
        let user_state = match (self.touched.active, self.active) {
            (true, Some(true)) => Some(UserState::Active),
            (true, Some(false)) => Some(UserState::Deactivated),
            _ => None,
        };
        Ok(ScimUserData {
            user_name: self.user_name.clone(),
            first_name: self.given.clone(),
            last_name: self.family.clone(),
            emails: self.emails.clone(),
            email: self.email(current.map(|c| c.user.email.as_str()))?,
            state: user_state,
            active_shown: self.active.is_some(),
            user_type: self.user_type,
            role,
            team,
            external_id: self.external_id.clone(),
        })
    }
}

/// A user and its document, as filters see it.
struct Row<'a> {
    user: &'a ScimUser,
    doc: Doc,
    id: String,
}

impl Filterable for Row<'_> {
    fn emails(&self) -> Vec<&dyn Filterable> {
        self.doc
            .emails
            .iter()
            .flatten()
            .map(|e| e as &dyn Filterable)
            .collect()
    }

    fn values(&self, attr: Attr) -> Vec<AttrValue<'_>> {
        fn one(s: &str) -> Vec<AttrValue<'_>> {
            vec![AttrValue::Str(s)]
        }
        fn nonblank(s: &str) -> Vec<AttrValue<'_>> {
            if s.is_empty() { Vec::new() } else { one(s) }
        }
        let emails = || self.doc.emails.as_deref().unwrap_or_default();
        match attr {
            Attr::Id => vec![AttrValue::Str(&self.id)],
            Attr::UserName => vec![AttrValue::Str(&self.doc.user_name)],
            Attr::ExternalId => self.doc.external_id.as_deref().map(one).unwrap_or_default(),
            Attr::DisplayName | Attr::FormattedName => Vec::new(),
            Attr::GivenName => nonblank(&self.doc.given),
            Attr::FamilyName => nonblank(&self.doc.family),
            Attr::Active => vec![AttrValue::Bool(self.user.user.state == UserState::Active)],
            Attr::UserType => self
                .doc
                .user_type
                .map(|t| vec![AttrValue::Str(t.as_str())])
                .unwrap_or_default(),
            Attr::Division => self.doc.division.as_deref().map(one).unwrap_or_default(),
            Attr::EmailValue => emails().iter().map(|e| AttrValue::Str(&e.value)).collect(),
            Attr::EmailType => emails()
                .iter()
                .filter_map(|e| e.kind.as_deref().map(AttrValue::Str))
                .collect(),
            Attr::EmailPrimary => emails()
                .iter()
                .filter_map(|e| e.primary.map(AttrValue::Bool))
                .collect(),
        }
    }
}

fn location(state: &AppState, id: UserId) -> String {
    format!(
        "{}{BASE}/Users/{}",
        state.public_url.as_str().trim_end_matches('/'),
        id.get()
    )
}

/// A user as SCIM shows it, from its document.
fn render(state: &AppState, user: &ScimUser, doc: Doc) -> api::User {
    let name = (!doc.given.is_empty() || !doc.family.is_empty()).then(|| api::Name {
        given_name: (!doc.given.is_empty()).then(|| doc.given.clone()),
        family_name: (!doc.family.is_empty()).then(|| doc.family.clone()),
    });
    let emails = doc
        .emails
        .iter()
        .flatten()
        .map(|e| api::Email {
            value: e.value.clone(),
            kind: e.kind.clone(),
            primary: e.primary,
        })
        .collect();
    api::User {
        schemas: vec![api::USER_SCHEMA.to_owned()],
        id: user.user.id.get().to_string(),
        external_id: doc.external_id,
        user_name: doc.user_name,
        name,
        emails,
        active: doc.active,
        user_type: doc.user_type.map(|t| t.as_str().to_owned()),
        division: doc.division,
        meta: api::Meta {
            resource_type: "User".to_owned(),
            created: user.created_at.to_string(),
            last_modified: user.updated_at.to_string(),
            location: location(state, user.user.id),
        },
    }
}

/// The names of a comma-separated `attributes` or `excludedAttributes` list, lower-cased, with
/// the core schema's URN removed.
fn names(list: &str) -> Vec<String> {
    list.split(',')
        .map(|n| {
            let n = n.trim().to_ascii_lowercase();
            n.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:")
                .map(str::to_owned)
                .unwrap_or(n)
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// A rendered user with only the asked attributes (`id` and `schemas` always), or without the
/// excluded ones (RFC 7644 §3.4.2.5).
fn project(user: api::User, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let mut value = serde_json::to_value(user).unwrap_or(Value::Null);
    let Value::Object(map) = &mut value else {
        return value;
    };
    if let Some(list) = attributes {
        let wanted = names(list);
        map.retain(|key, _| {
            let key = key.to_ascii_lowercase();
            key == "id"
                || key == "schemas"
                || wanted
                    .iter()
                    .any(|w| *w == key || w.split('.').next() == Some(key.as_str()))
        });
    }
    if let Some(list) = excluded {
        for name in names(list) {
            match name.split_once('.') {
                Some((parent, child)) => {
                    if let Some(Value::Object(inner)) = map
                        .iter_mut()
                        .find(|(k, _)| k.eq_ignore_ascii_case(parent))
                        .map(|(_, v)| v)
                    {
                        inner.retain(|k, _| !k.eq_ignore_ascii_case(child));
                    }
                }
                None if name != "id" && name != "schemas" => {
                    map.retain(|k, _| !k.eq_ignore_ascii_case(&name));
                }
                None => {}
            }
        }
    }
    value
}

fn query(raw: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect()
}

fn user_id(raw: &str) -> Result<UserId, ScimError> {
    super::super::numeric_id(raw)
        .map(UserId::new)
        .ok_or_else(|| ScimError::not_found(format!("User {raw:?} not found")))
}

/// An integer query parameter.
fn integer(params: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ScimError> {
    params
        .get(&name.to_ascii_lowercase())
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| {
                ScimError::bad(
                    "invalidValue",
                    format!("{name} must be an integer (got {v:?})"),
                )
            })
        })
        .transpose()
}

#[utoipa::path(
    get,
    path = "/api/scim/v2/Users",
    tag = "SCIM",
    operation_id = "scim_list_users",
    summary = "List users",
    description = "The organization's users, filtered (`eq`, `ne`, `co`, `sw`, `ew`, `pr`, `gt`, `ge`, `lt`, `le`, `and`, `or`, `not`, \
        parentheses, RFC 7644 §3.4.2.2), a page at a time by `startIndex` and `count`.",
    params(
        ("filter" = Option<String>, Query, description = "A SCIM filter, e.g. `userName eq \"a@example.com\"`"),
        ("startIndex" = Option<i64>, Query, description = "1-based index of the first result (below 1: 1)"),
        ("count" = Option<i64>, Query, description = "Results at most (0 to 100; default 100)"),
        ("attributes" = Option<String>, Query, description = "Attributes to return, comma-separated (RFC 7644 §3.4.2.5)"),
        ("excludedAttributes" = Option<String>, Query, description = "Attributes not to return, comma-separated"),
    ),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 200, description = "A list response of users", body = api::ListResponse<api::User>, content_type = "application/scim+json"),
        (status = 400, description = "The filter cannot be read (`invalidFilter`) or a number is not an integer (`invalidValue`)", body = api::Error, content_type = "application/scim+json"),
    ),
)]
pub(super) async fn list(
    auth: ScimAuth,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    found(&state, auth.principal().org_id, &query(raw.as_deref())).await
}

/// `POST /.search` (RFC 7644 §3.4.3): the listing's parameters in a `SearchRequest` body
/// (`filter`, `startIndex`, `count`, `attributes` and `excludedAttributes` as arrays or
/// comma-separated strings; names in any case).
pub(super) async fn search(
    auth: &ScimAuth,
    state: &AppState,
    body: Result<JsonBody, crate::error::ApiError>,
) -> Result<Response, ScimError> {
    let body = body?;
    let map = object(&body)?;
    let mut params = HashMap::new();
    let mut search_request = false;
    for (name, value) in map {
        let key = name.to_ascii_lowercase();
        let invalid = || ScimError::bad("invalidValue", format!("{name} is invalid"));
        let value = match key.as_str() {
            "schemas" => {
                search_request = value.as_array().is_some_and(|s| {
                    s.iter()
                        .filter_map(Value::as_str)
                        .any(|s| s.eq_ignore_ascii_case(api::SEARCH_SCHEMA))
                });
                None
            }
            // Sorting is not supported (the service provider configuration says so).
            "sortby" | "sortorder" => None,
            "filter" | "attributes" | "excludedattributes" => match value {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                Value::Array(items) if key != "filter" => Some(
                    items
                        .iter()
                        .map(|v| v.as_str().ok_or_else(invalid))
                        .collect::<Result<Vec<_>, _>>()?
                        .join(","),
                ),
                _ => return Err(invalid()),
            },
            "startindex" | "count" => match value {
                Value::Null => None,
                Value::Number(n) => Some(whole(n).ok_or_else(invalid)?.to_string()),
                _ => return Err(invalid()),
            },
            _ => {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    format!("{name} is not a parameter of a search request"),
                ));
            }
        };
        // Empty values say nothing, as absent ones.
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        if params.insert(key, value).is_some() {
            return Err(ScimError::bad(
                "invalidSyntax",
                format!("{name} is given twice (names are case-insensitive)"),
            ));
        }
    }
    if !search_request {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("schemas must hold {}", api::SEARCH_SCHEMA),
        ));
    }
    found(state, auth.principal().org_id, &params).await
}

/// A JSON number that is a whole number (`2`, `2.0`, `2e1`), saturated to `i64`.
fn whole(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0)
            .map(|f| f.clamp(i64::MIN as f64, i64::MAX as f64) as i64)
    })
}

/// The users of `org` that the parameters (lower-cased names) filter and page to.
async fn found(
    state: &AppState,
    org: giftwire_core::OrgId,
    params: &HashMap<String, String>,
) -> Result<Response, ScimError> {
    let start = integer(params, "startIndex")?.unwrap_or(1).max(1) as u64;
    let count = integer(params, "count")?
        .unwrap_or(MAX_COUNT as i64)
        .clamp(0, MAX_COUNT as i64) as u64;
    let filter = params
        .get("filter")
        .map(|f| Filter::parse(f).map_err(|e| ScimError::bad("invalidFilter", e.to_string())))
        .transpose()?;
    let users = state.store.scim_users(org).await?;
    // Each user's document is made once: filtered on, then rendered.
    let matching: Vec<Row<'_>> = users
        .iter()
        .map(|user| Row {
            user,
            doc: Doc::of(user),
            id: user.user.id.get().to_string(),
        })
        .filter(|row| filter.as_ref().is_none_or(|f| f.matches(row)))
        .collect();
    let total = matching.len() as u64;
    let page: Vec<Value> = matching
        .into_iter()
        .skip((start - 1) as usize)
        .take(count as usize)
        .map(|row| {
            project(
                render(state, row.user, row.doc),
                params.get("attributes").map(String::as_str),
                params.get("excludedattributes").map(String::as_str),
            )
        })
        .collect();
    let body = api::ListResponse {
        schemas: vec![api::LIST_SCHEMA.to_owned()],
        total_results: total,
        items_per_page: page.len() as u64,
        start_index: start,
        resources: page,
    };
    Ok(scim_json(StatusCode::OK, &body))
}

async fn answer(
    state: &AppState,
    user: &ScimUser,
    status: StatusCode,
    raw: Option<&str>,
) -> Response {
    let params = query(raw);
    let body = project(
        render(state, user, Doc::of(user)),
        params.get("attributes").map(String::as_str),
        params.get("excludedattributes").map(String::as_str),
    );
    let mut response = scim_json(status, &body);
    if let Ok(location) = HeaderValue::from_str(&location(state, user.user.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[utoipa::path(
    get,
    path = "/api/scim/v2/Users/{id}",
    tag = "SCIM",
    operation_id = "scim_show_user",
    summary = "One user",
    params(
        ("id" = String, Path, description = "The user's id"),
        ("attributes" = Option<String>, Query, description = "Attributes to return, comma-separated (RFC 7644 §3.4.2.5)"),
        ("excludedAttributes" = Option<String>, Query, description = "Attributes not to return, comma-separated"),
    ),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 200, description = "The user", body = api::User, content_type = "application/scim+json", headers(("Location" = String, description = "The user's URL"))),
        (status = 404, description = "No user of the organization has this id", body = api::Error, content_type = "application/scim+json"),
    ),
)]
pub(super) async fn show(
    auth: ScimAuth,
    State(state): State<AppState>,
    PathParam(raw_id): PathParam,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    let user = state
        .store
        .scim_user(auth.principal().org_id, user_id(&raw_id)?)
        .await?;
    Ok(answer(&state, &user, StatusCode::OK, raw.as_deref()).await)
}

fn object(body: &JsonBody) -> Result<&Map<String, Value>, ScimError> {
    match &body.0 {
        Value::Object(map) => Ok(map),
        _ => Err(ScimError::bad(
            "invalidSyntax",
            "The request body must be a JSON object",
        )),
    }
}

#[utoipa::path(
    post,
    path = "/api/scim/v2/Users",
    tag = "SCIM",
    operation_id = "scim_create_user",
    summary = "Create a user",
    description = "A user of the organization: `userName`, `name`, `emails`, `active`, `userType` (`sender`, `manager` or `admin`), `division` (a team's name) and `externalId`, \
        core or enterprise extension attributes alike.",
    request_body(content = api::User, content_type = "application/scim+json", description = "A User resource (attribute names are case-insensitive; `application/json` is accepted too)"),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 201, description = "Created", body = api::User, content_type = "application/scim+json", headers(("Location" = String, description = "The user's URL"))),
        (status = 400, description = "The body or a value is invalid (`scimType` says how)", body = api::Error, content_type = "application/scim+json"),
        (status = 409, description = "Another user has this `userName` or email (`scimType: uniqueness`)", body = api::Error, content_type = "application/scim+json"),
    ),
)]
pub(super) async fn create(
    auth: ScimAuth,
    State(state): State<AppState>,
    body: Result<JsonBody, crate::error::ApiError>,
) -> Result<Response, ScimError> {
    let org = auth.principal().org_id;
    let body = body?;
    let map = object(&body)?;
    let mut doc = Doc::default();
    doc.set_all(map)?;
    if doc.user_name.is_empty() {
        return Err(ScimError::bad("invalidValue", "userName can't be blank"));
    }
    let data = doc.resolve(&state, org, None).await?;
    let user = state
        .store
        .scim_create(org, data, state.clock.now())
        .await?;
    Ok(answer(&state, &user, StatusCode::CREATED, None).await)
}

#[utoipa::path(
    put,
    path = "/api/scim/v2/Users/{id}",
    tag = "SCIM",
    operation_id = "scim_replace_user",
    summary = "Replace a user",
    description = "Sets the attributes the body gives; those absent keep their values.",
    params(("id" = String, Path, description = "The user's id"),),
    request_body(content = api::User, content_type = "application/scim+json"),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 200, description = "The user after the change", body = api::User, content_type = "application/scim+json", headers(("Location" = String, description = "The user's URL"))),
        (status = 400, description = "The body or a value is invalid (`scimType` says how)", body = api::Error, content_type = "application/scim+json"),
        (status = 404, description = "No user of the organization has this id", body = api::Error, content_type = "application/scim+json"),
        (status = 409, description = "Another user has this `userName` or email (`scimType: uniqueness`)", body = api::Error, content_type = "application/scim+json"),
    ),
)]
pub(super) async fn replace(
    auth: ScimAuth,
    State(state): State<AppState>,
    PathParam(raw_id): PathParam,
    body: Result<JsonBody, crate::error::ApiError>,
) -> Result<Response, ScimError> {
    let org = auth.principal().org_id;
    let id = user_id(&raw_id)?;
    let body = body?;
    let map = object(&body)?;
    let current = state.store.scim_user(org, id).await?;
    let mut doc = Doc::of(&current);
    doc.set_all(map)?;
    let data = doc.resolve(&state, org, Some(&current)).await?;
    let user = state
        .store
        .scim_replace(org, id, current.fingerprint(), data, state.clock.now())
        .await?;
    Ok(answer(&state, &user, StatusCode::OK, None).await)
}

#[utoipa::path(
    patch,
    path = "/api/scim/v2/Users/{id}",
    tag = "SCIM",
    operation_id = "scim_patch_user",
    summary = "Change a user (PatchOp)",
    description = "Applies the operations (`add`, `replace`, `remove`, with paths and value filters, RFC 7644 §3.5.2) in order, all or none.",
    params(("id" = String, Path, description = "The user's id"),),
    request_body(content = serde_json::Value, content_type = "application/scim+json", description = "A `urn:ietf:params:scim:api:messages:2.0:PatchOp` message"),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 200, description = "The user after the change", body = api::User, content_type = "application/scim+json", headers(("Location" = String, description = "The user's URL"))),
        (status = 400, description = "The body or a value is invalid (`scimType` says how)", body = api::Error, content_type = "application/scim+json"),
        (status = 404, description = "No user of the organization has this id", body = api::Error, content_type = "application/scim+json"),
        (status = 409, description = "Another user has this `userName` or email (`scimType: uniqueness`)", body = api::Error, content_type = "application/scim+json"),
    ),
)]
pub(super) async fn patch(
    auth: ScimAuth,
    State(state): State<AppState>,
    PathParam(raw_id): PathParam,
    body: Result<JsonBody, crate::error::ApiError>,
) -> Result<Response, ScimError> {
    let org = auth.principal().org_id;
    let id = user_id(&raw_id)?;
    let body = body?;
    let current = state.store.scim_user(org, id).await?;
    let mut doc = Doc::of(&current);
    patch::apply(&mut doc, &body.0)?;
    let data = doc.resolve(&state, org, Some(&current)).await?;
    let user = state
        .store
        .scim_replace(org, id, current.fingerprint(), data, state.clock.now())
        .await?;
    Ok(answer(&state, &user, StatusCode::OK, None).await)
}

#[utoipa::path(
    delete,
    path = "/api/scim/v2/Users/{id}",
    tag = "SCIM",
    operation_id = "scim_delete_user",
    summary = "Deactivate a user",
    description = "The user is deactivated (its sends stay); it is no longer listed.",
    params(("id" = String, Path, description = "The user's id"),),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No user of the organization has this id", body = api::Error, content_type = "application/scim+json"),
    ),
)]
pub(super) async fn delete(
    auth: ScimAuth,
    State(state): State<AppState>,
    PathParam(raw_id): PathParam,
) -> Result<Response, ScimError> {
    state
        .store
        .scim_delete(
            auth.principal().org_id,
            user_id(&raw_id)?,
            state.clock.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
