//! Inviting users (API_REFERENCE.md §6.3): `POST /api/v3/users` answers 201 with the documented
//! body and mails a link; the link's page sets the password, after which the user is active,
//! listed and signs in. Every documented message, and nothing written when refused.

use giftwire_core::{Clock, MailKind};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestConfig, TestOrg, assert_schema, at, backend_tests, spawn, spawn_with,
};
use crate::oauth::{browser, csrf_of, submit_sign_in};

backend_tests!(
    an_invited_user_chooses_a_password_and_becomes_active,
    invitations_refuse_with_the_documented_messages_and_write_nothing,
    an_invitation_expires_after_seven_days,
);

fn invite(first: &str, email: &str, role: &str, team: Value) -> Value {
    json!({"user": {"first_name": first, "last_name": "Lovelace", "email": email, "role": role,
                    "team_group_id": team}})
}

async fn users_total(app: &TestApp, org: &TestOrg) -> i64 {
    app.get("/api/v3/users", &org.token).await.2["total_users"]
        .as_i64()
        .unwrap()
}

/// The invitation link of the last mail to `to`.
async fn link(app: &TestApp, org: &TestOrg, to: &str) -> String {
    let mail = app.store.outbox(Some(org.org.id), 100).await.unwrap();
    let mail = mail
        .iter()
        .find(|m| m.to == to && m.kind == MailKind::Invitation)
        .unwrap_or_else(|| panic!("an invitation to {to}"));
    let start = mail.text_body.find("/invitations/").expect("a link");
    let path: String = mail.text_body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    path
}

async fn an_invited_user_chooses_a_password_and_becomes_active(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "America/Los_Angeles").await;
    let token = app.create_token(&acme.user, "public update", None).await;
    let before = users_total(&app, &acme).await;

    let body = invite("Ada", "ada@acme.example", "manager", json!(acme.team.get()));
    let (status, _, answer) = app.post("/api/v3/users", &token, &body, None).await;
    assert_eq!(status, 201, "{answer}");
    assert_schema("user-invite", &answer);
    assert_eq!(
        (
            answer["success"].clone(),
            answer["receiver_email"].clone(),
            answer["team_group_id"].clone()
        ),
        (
            json!(true),
            json!("ada@acme.example"),
            json!(acme.team.get())
        )
    );
    assert_eq!(
        (
            answer["user_role"].clone(),
            answer["invitation_status"].clone()
        ),
        (json!("manager"), json!("pending"))
    );
    let expires = answer["expires_at"].as_str().unwrap();
    assert!(
        expires.ends_with("-08:00") || expires.ends_with("-07:00"),
        "{expires}"
    );
    // Invited, not yet active: not listed.
    assert_eq!(users_total(&app, &acme).await, before);
    // Once the mail is delivered, the outbox no longer holds the link (its only credential).
    let path = link(&app, &acme, "ada@acme.example").await;
    let mail = app.store.outbox(Some(acme.org.id), 100).await.unwrap();
    let sent = mail
        .iter()
        .find(|m| m.kind == MailKind::Invitation)
        .unwrap();
    app.store
        .mail_delivered(acme.org.id, sent.id, jiff::Timestamp::now())
        .await
        .unwrap();
    let mail = app.store.outbox(Some(acme.org.id), 100).await.unwrap();
    assert!(
        !mail.iter().any(|m| m.text_body.contains(&path)),
        "the delivered mail keeps no link"
    );

    // The mail's link opens the page; the password chosen there activates the user.
    assert!(path.len() > "/invitations/".len() + 40, "{path}");
    let browser = browser();
    let page = browser.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Join Acme") && page.contains("ada@acme.example"),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let post = |fields: Vec<(&'static str, String)>| {
        let browser = browser.clone();
        let url = app.url(&path);
        async move { browser.post(url).form(&fields).send().await.unwrap() }
    };
    let password = "correct horse battery".to_owned();
    // Without this browser's form token, with two different passwords, or a short one: refused.
    let other = crate::oauth::browser();
    let refused = other
        .post(app.url(&path))
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", &password),
            ("confirmation", &password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let refused = post(vec![
        ("csrf", csrf.clone()),
        ("password", password.clone()),
        ("confirmation", "other one".into()),
    ])
    .await;
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("The two passwords differ.")
    );
    let refused = post(vec![
        ("csrf", csrf.clone()),
        ("password", "short".into()),
        ("confirmation", "short".into()),
    ])
    .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(users_total(&app, &acme).await, before, "still invited");

    let done = post(vec![
        ("csrf", csrf.clone()),
        ("password", password.clone()),
        ("confirmation", password.clone()),
    ])
    .await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Your account is ready"));
    assert_eq!(users_total(&app, &acme).await, before + 1);
    let (_, _, listed) = app.get("/api/v3/users?per_page=100", &acme.token).await;
    let ada = listed["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ada@acme.example")
        .cloned()
        .unwrap();
    assert_eq!(
        ada,
        json!({"id": ada["id"], "first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example",
               "team_group_id": acme.team.get()})
    );
    // The user signs in with it; the link is spent.
    let response = submit_sign_in(
        &app,
        &crate::oauth::browser(),
        "ada@acme.example",
        &password,
        "/",
    )
    .await;
    assert_eq!(response.status(), 303, "the new user signs in");
    // A spent link sets no other password.
    let other_password = "another password 2".to_owned();
    let again = post(vec![
        ("csrf", csrf.clone()),
        ("password", other_password.clone()),
        ("confirmation", other_password.clone()),
    ])
    .await;
    assert_eq!(again.status(), 200);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("Your account is ready")
    );
    let response = submit_sign_in(
        &app,
        &crate::oauth::browser(),
        "ada@acme.example",
        &other_password,
        "/",
    )
    .await;
    assert_ne!(response.status(), 303, "the spent link changed nothing");
    let page = browser
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Your account is ready"),
        "an accepted link says so: {page}"
    );
    let unknown = browser
        .get(app.url("/invitations/gw_nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

async fn invitations_refuse_with_the_documented_messages_and_write_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let token = app.create_token(&acme.user, "public update", None).await;
    let team = json!(acme.team.get());
    let role = "Role can be one of these: manager,regular";
    let group = "Please enter a valid team group";
    let mut cases: Vec<(Value, u16, String)> = vec![
        (json!({}), 400, "user can't be blank".into()),
        (json!({"user": "ada"}), 400, "user is invalid".into()),
        (
            invite("", "ada@acme.example", "regular", team.clone()),
            400,
            "first_name can't be blank".into(),
        ),
        (
            invite("Ada", "", "regular", team.clone()),
            400,
            "email can't be blank".into(),
        ),
        (
            invite("Ada", "not-an-email", "regular", team.clone()),
            400,
            "email is invalid".into(),
        ),
        (
            invite("Ada", "ada@acme.example", "admin", team.clone()),
            400,
            role.into(),
        ),
        (
            invite("Ada", "ada@acme.example", "", team.clone()),
            400,
            role.into(),
        ),
        (
            invite("Ada", "ada@acme.example", "Manager", team.clone()),
            400,
            role.into(),
        ),
        (
            invite("Ada", "ada@acme.example", "regular", json!(null)),
            400,
            group.into(),
        ),
        (
            invite("Ada", "ada@acme.example", "regular", json!("sales")),
            400,
            group.into(),
        ),
        (
            invite("Ada", "ada@acme.example", "regular", json!(999_999)),
            400,
            group.into(),
        ),
        (
            invite("Ada", "ada@acme.example", "regular", json!(-1)),
            400,
            group.into(),
        ),
        // Another organization's team is no team of ours.
        (
            invite(
                "Ada",
                "ada@acme.example",
                "regular",
                json!(globex.team.get()),
            ),
            400,
            group.into(),
        ),
        // An email that already has a user here.
        (
            invite("Marc", "MARC@acme.example", "regular", team.clone()),
            409,
            format!(
                "a user with email MARC@acme.example already exists in organization {}",
                acme.org.id.get()
            ),
        ),
    ];
    let mut no_last = invite("Ada", "ada@acme.example", "regular", team.clone());
    no_last["user"].as_object_mut().unwrap().remove("last_name");
    cases.push((no_last, 400, "last_name can't be blank".into()));
    let before = app.store.users(acme.org.id).await.unwrap().len();
    let mail_before = app.store.outbox(None, 1000).await.unwrap().len();
    for (body, status, message) in cases {
        let (code, _, answer) = app.post("/api/v3/users", &token, &body, None).await;
        assert_eq!(code, status, "{body}: {answer}");
        assert_schema("error", &answer);
        assert_eq!(answer["message"], message, "{body}");
    }
    assert_eq!(
        app.store.users(acme.org.id).await.unwrap().len(),
        before,
        "no user was written"
    );
    assert_eq!(
        app.store.outbox(None, 1000).await.unwrap().len(),
        mail_before,
        "no mail was written"
    );
    // Inviting takes the `update` scope.
    let (code, _, answer) = app
        .post(
            "/api/v3/users",
            &acme.token,
            &invite("Ada", "ada@acme.example", "regular", team),
            None,
        )
        .await;
    assert_eq!(code, 403, "{answer}");
}

async fn an_invitation_expires_after_seven_days(backend: Backend) {
    let clock = Clock::manual(at("2026-03-01T12:00:00Z"));
    let app = spawn_with(
        backend,
        TestConfig {
            clock: Some(clock.clone()),
            ..Default::default()
        },
    )
    .await;
    let acme = app.create_org("Acme", "UTC").await;
    let token = app.create_token(&acme.user, "update", None).await;
    let body = invite("Ada", "ada@acme.example", "regular", json!(acme.team.get()));
    let (status, _, answer) = app.post("/api/v3/users", &token, &body, None).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["expires_at"], "2026-03-08T12:00:00+00:00");
    let path = link(&app, &acme, "ada@acme.example").await;
    let browser = browser();
    let page = browser.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = csrf_of(&page.text().await.unwrap());
    clock.advance(7 * 86_400);
    let page = browser.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 410);
    let password = "correct horse battery";
    let refused = browser
        .post(app.url(&path))
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", password),
            ("confirmation", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 410);
    assert_eq!(
        app.store
            .user(
                acme.org.id,
                app.store
                    .users(acme.org.id)
                    .await
                    .unwrap()
                    .last()
                    .unwrap()
                    .id
            )
            .await
            .unwrap()
            .state,
        giftwire_core::UserState::Invited
    );
}
