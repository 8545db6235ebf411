//! `GET /api/v3/send`: the send object field by field (CONTRACT.md §5), its order and its paths.

use giftwire_core::store::User;
use giftwire_core::{SendGid, SendId};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestOrg, assert_valid, backend_tests, ids, spawn};

/// The two sends of the seed's example, made through the store as the service would make them.
async fn seed_example(app: &TestApp) -> (TestOrg, User, Vec<SendId>, i64, i64) {
    let acme = app.create_org("Sendoso", "America/Los_Angeles").await;
    let marc = app
        .create_user(
            acme.org.id,
            "Marc Fernandez",
            "marc.fernandez@sendoso.com",
            Some(acme.team),
        )
        .await;
    let org = acme.org.id;
    let egift = app
        .create_touch(
            org,
            "eGift Cards USA",
            "eGifts USA",
            "eGift Cards USA",
            "2.00",
        )
        .await;
    let inventory = app
        .create_touch(
            org,
            "Triggered inventory",
            "Inventoried Sends",
            "Custom",
            "5",
        )
        .await;
    let first = app
        .create_send(
            org,
            &egift,
            &marc,
            ("John Doe", "johndoe@acme.com", Some("Acme")),
            "Sendoso.com",
            "2022-09-12T12:08:27-07:00",
        )
        .await;
    app.change_status(org, first, "Sent", "2022-09-12T12:08:27-07:00", None)
        .await;
    app.change_status(org, first, "Opened", "2022-09-12T12:08:58-07:00", None)
        .await;
    app.change_status(org, first, "Clicked", "2022-09-12T12:08:58-07:00", None)
        .await;
    app.change_status(org, first, "Expired", "2022-12-11T00:00:02-08:00", None)
        .await;
    let second = app
        .create_send(
            org,
            &inventory,
            &marc,
            (
                "Marc Fernandez Girones",
                "marc.fernandez@sendoso.com",
                Some("Sendoso"),
            ),
            "Salesforce Trigger",
            "2022-12-21T23:37:22-08:00",
        )
        .await;
    app.change_status(
        org,
        second,
        "Confirming Address",
        "2022-12-22T05:42:27-08:00",
        None,
    )
    .await;
    app.change_status(
        org,
        second,
        "Address Confirmation - Cancelled",
        "2022-12-27T09:00:05-08:00",
        None,
    )
    .await;
    (
        acme,
        marc,
        vec![first, second],
        egift.id.get(),
        inventory.id.get(),
    )
}

async fn the_seed_example_is_reproduced_field_for_field(backend: Backend) {
    let app = spawn(backend).await;
    let (acme, marc, sends, egift, inventory) = seed_example(&app).await;
    let (status, headers, body) = app.get("/api/v3/send", &acme.token).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_valid(&body);
    let sender = json!({
        "id": marc.id.get(), "name": "Marc Fernandez", "email": "marc.fernandez@sendoso.com",
        "team_id": acme.team.get(), "team_name": "Marketing Ops"
    });
    let expected = json!({
        "current_page": 1,
        "per_page": 10,
        "total_count": 2,
        "sends": [
            {
                "id": sends[0].get(),
                "send_gid": SendGid::of(sends[0]).as_str(),
                "type": "eGifts USA",
                "subtype": "eGift Cards USA",
                "currency": "USD",
                "current_total_cost": "2.0",
                "status": "Expired",
                "created_at": "2022-09-12T12:08:27-07:00",
                "touch": {"id": egift, "name": "eGift Cards USA"},
                "recipient": {"name": "John Doe", "email": "johndoe@acme.com", "company_name": "Acme"},
                "sender": sender,
                "sent_via": "Sendoso.com",
                "status_updates": [
                    {"status": "Sent", "occurred_at": "2022-09-12T12:08:27-07:00"},
                    {"status": "Opened", "occurred_at": "2022-09-12T12:08:58-07:00"},
                    {"status": "Clicked", "occurred_at": "2022-09-12T12:08:58-07:00"},
                    {"status": "Expired", "occurred_at": "2022-12-11T00:00:02-08:00"}
                ]
            },
            {
                "id": sends[1].get(),
                "send_gid": SendGid::of(sends[1]).as_str(),
                "type": "Inventoried Sends",
                "subtype": "Custom",
                "currency": "USD",
                "current_total_cost": "5.0",
                "status": "Address Confirmation - Cancelled",
                "created_at": "2022-12-21T23:37:22-08:00",
                "touch": {"id": inventory, "name": "Triggered inventory"},
                "recipient": {"name": "Marc Fernandez Girones", "email": "marc.fernandez@sendoso.com", "company_name": "Sendoso"},
                "sender": sender,
                "sent_via": "Salesforce Trigger",
                "status_updates": [
                    {"status": "Confirming Address", "occurred_at": "2022-12-22T05:42:27-08:00"},
                    {"status": "Address Confirmation - Cancelled", "occurred_at": "2022-12-27T09:00:05-08:00"}
                ]
            }
        ]
    });
    assert_eq!(body, expected);
}

async fn the_keys_come_in_the_documented_order(backend: Backend) {
    let app = spawn(backend).await;
    let (acme, _, _, _, _) = seed_example(&app).await;
    let response = app
        .get_raw("/api/v3/send", Some(&format!("Bearer {}", acme.token)))
        .await;
    let text = response.text().await.unwrap();
    let positions: Vec<usize> = [
        "\"current_page\"",
        "\"per_page\"",
        "\"total_count\"",
        "\"sends\"",
        "\"id\"",
        "\"send_gid\"",
        "\"type\"",
        "\"subtype\"",
        "\"currency\"",
        "\"current_total_cost\"",
        "\"status\"",
        "\"created_at\"",
        "\"touch\"",
        "\"recipient\"",
        "\"sender\"",
        "\"sent_via\"",
        "\"status_updates\"",
    ]
    .iter()
    .map(|key| text.find(key).unwrap_or_else(|| panic!("{key} missing")))
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}

async fn a_send_without_updates_is_pending_and_unknown_company_and_team_are_null(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Globex", "UTC").await;
    let touch = app
        .create_touch(
            org.org.id,
            "Notes",
            "Handwritten Notes",
            "Handwritten Notes",
            "7.5",
        )
        .await;
    app.create_send(
        org.org.id,
        &touch,
        &org.teamless,
        ("Ann Lee", "ann@example.com", None),
        "API",
        "2024-03-10T10:00:00Z",
    )
    .await;
    let (status, _, body) = app.get("/api/v3/send", &org.token).await;
    assert_eq!(status, 200);
    assert_valid(&body);
    let send = &body["sends"][0];
    assert_eq!(send["status"], "pending");
    assert_eq!(send["status_updates"], json!([]));
    assert_eq!(send["recipient"]["company_name"], Value::Null);
    assert_eq!(send["sender"]["team_id"], Value::Null);
    assert_eq!(send["sender"]["team_name"], Value::Null);
    assert_eq!(send["current_total_cost"], "7.5");
    // UTC renders a numeric offset, never Z.
    assert_eq!(send["created_at"], "2024-03-10T10:00:00+00:00");
}

async fn times_are_shown_in_the_organizations_zone_across_daylight_saving(backend: Backend) {
    let app = spawn(backend).await;
    let berlin = app.create_org("Umbrella", "Europe/Berlin").await;
    let kolkata = app.create_org("Hooli", "Asia/Kolkata").await;
    for (org, winter, summer) in [
        (
            &berlin,
            "2024-01-15T13:00:00+01:00",
            "2024-07-15T14:00:00+02:00",
        ),
        (
            &kolkata,
            "2024-01-15T17:30:00+05:30",
            "2024-07-15T17:30:00+05:30",
        ),
    ] {
        let touch = app
            .create_touch(org.org.id, "Coffee", "eGifts USA", "Coffee", "5")
            .await;
        let send = app
            .create_send(
                org.org.id,
                &touch,
                &org.user,
                ("A B", "a@b.example", None),
                "API",
                "2024-01-15T12:00:00Z",
            )
            .await;
        app.change_status(org.org.id, send, "Sent", "2024-07-15T12:00:00Z", None)
            .await;
        let (_, _, body) = app.get("/api/v3/send", &org.token).await;
        assert_valid(&body);
        assert_eq!(body["sends"][0]["created_at"], winter);
        assert_eq!(body["sends"][0]["status_updates"][0]["occurred_at"], summer);
    }
}

async fn status_is_the_last_update_and_costs_follow_the_lifecycle(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "America/New_York").await;
    let id = org.org.id;
    let wine = app
        .create_touch(id, "Wine", "Sendoso Direct", "Wine", "19.99")
        .await;
    let send = app
        .create_send(
            id,
            &wine,
            &org.user,
            ("Bo Ng", "bo@example.com", Some("Initrode")),
            "HubSpot",
            "2024-02-01T00:00:00Z",
        )
        .await;
    let cost = |body: &Value| {
        body["sends"][0]["current_total_cost"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let status = |body: &Value| body["sends"][0]["status"].as_str().unwrap().to_owned();

    let (_, _, body) = app.get("/api/v3/send", &org.token).await;
    assert_eq!(
        (status(&body), cost(&body)),
        ("pending".into(), "19.99".into())
    );

    app.change_status(
        id,
        send,
        "Processing",
        "2024-02-01T01:00:00Z",
        Some("25.50"),
    )
    .await;
    app.change_status(id, send, "Packed", "2024-02-02T01:00:00Z", None)
        .await;
    app.change_status(id, send, "Shipped", "2024-02-03T01:00:00Z", None)
        .await;
    let (_, _, body) = app.get("/api/v3/send", &org.token).await;
    assert_eq!(
        (status(&body), cost(&body)),
        ("Shipped".into(), "25.5".into())
    );

    app.change_status(id, send, "Undeliverable", "2024-02-09T01:00:00Z", None)
        .await;
    app.change_status(id, send, "Refunded", "2024-02-10T01:00:00Z", None)
        .await;
    let (_, _, body) = app.get("/api/v3/send", &org.token).await;
    assert_valid(&body);
    assert_eq!(
        (status(&body), cost(&body)),
        ("Refunded".into(), "0.0".into())
    );
    let history: Vec<&str> = body["sends"][0]["status_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "Processing",
            "Packed",
            "Shipped",
            "Undeliverable",
            "Refunded"
        ]
    );
}

async fn the_gid_decodes_to_the_id(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let created = app.create_sends(&org, 3).await;
    let (_, _, body) = app.get("/api/v3/send", &org.token).await;
    for send in body["sends"].as_array().unwrap() {
        let gid = send["send_gid"].as_str().unwrap();
        assert_eq!(
            SendGid::parse(gid),
            Some(SendId::new(send["id"].as_i64().unwrap()))
        );
        assert!(!gid.ends_with('='));
    }
    assert_eq!(
        ids(&body),
        created.iter().map(|i| i.get()).collect::<Vec<_>>()
    );
}

async fn the_json_suffix_and_the_plural_answer_the_same(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 4).await;
    let (_, _, canonical) = app.get("/api/v3/send?per_page=3&page=1", &org.token).await;
    for path in [
        "/api/v3/send.json?per_page=3&page=1",
        "/api/v3/sends?per_page=3&page=1",
        "/api/v3/sends.json?per_page=3&page=1",
    ] {
        let (status, _, body) = app.get(path, &org.token).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body, canonical, "{path}");
    }
}

async fn a_seeded_organization_pages_through_every_send_in_ascending_order_and_validates(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let org = app.create_org("Seeded", "America/Los_Angeles").await;
    // Sends of other organizations interleave with this one's ids.
    let other = app.create_org("Other", "UTC").await;
    let mut expected = Vec::new();
    for _ in 0..3 {
        expected.extend(
            app.create_sends(&org, 40)
                .await
                .into_iter()
                .map(|i| i.get()),
        );
        app.create_sends(&other, 7).await;
    }
    let mut seen = Vec::new();
    for page in 1.. {
        let (status, _, body) = app
            .get(&format!("/api/v3/send?per_page=25&page={page}"), &org.token)
            .await;
        assert_eq!(status, 200);
        assert_valid(&body);
        assert_eq!(body["total_count"], 120);
        assert_eq!(body["current_page"], page);
        let page_ids = ids(&body);
        if page_ids.is_empty() {
            break;
        }
        seen.extend(page_ids);
    }
    assert_eq!(seen, expected);
}

backend_tests!(
    the_seed_example_is_reproduced_field_for_field,
    the_keys_come_in_the_documented_order,
    a_send_without_updates_is_pending_and_unknown_company_and_team_are_null,
    times_are_shown_in_the_organizations_zone_across_daylight_saving,
    status_is_the_last_update_and_costs_follow_the_lifecycle,
    the_gid_decodes_to_the_id,
    the_json_suffix_and_the_plural_answer_the_same,
    a_seeded_organization_pages_through_every_send_in_ascending_order_and_validates,
);
