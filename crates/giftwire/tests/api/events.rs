//! The events of sends (webhooks, issue 10's outbox), on both databases: every creation and every
//! status change, from every entry point (the API, the fulfillment endpoint, the recipient pages,
//! the worker, the store the CLI uses), writes the documented event type in its own transaction,
//! in order; a change that is refused writes none.

use giftwire_core::store::SendEvent;
use giftwire_core::{Clock, SendId};
use jiff::Timestamp;
use serde_json::json;

use crate::create::{egift_body, physical, shop};
use crate::helpers::{Backend, TestApp, TestConfig, backend_tests, spawn_with};

backend_tests!(
    every_entry_point_writes_the_event_of_its_change_in_order,
    refused_changes_write_no_event,
);

async fn events(app: &TestApp, org: giftwire_core::OrgId, id: i64) -> Vec<(u32, String, String)> {
    let events: Vec<SendEvent> = app.store.send_events(org, SendId::new(id)).await.unwrap();
    events
        .into_iter()
        .map(|e| (e.seq, e.event_type, e.status.as_str().to_owned()))
        .collect()
}

fn expected(list: &[(u32, &str, &str)]) -> Vec<(u32, String, String)> {
    list.iter()
        .map(|(seq, t, s)| (*seq, (*t).to_owned(), (*s).to_owned()))
        .collect()
}

async fn every_entry_point_writes_the_event_of_its_change_in_order(backend: Backend) {
    let start = "2030-03-01T12:00:00Z";
    let config = TestConfig {
        clock: Some(Clock::manual(start.parse::<Timestamp>().unwrap())),
        ..Default::default()
    };
    let app = spawn_with(backend, config).await;
    let shop = shop(&app, "Acme").await;
    let org = shop.org.org.id;

    // The API: an eGift is created and sent at once; its recipient opens, clicks, redeems.
    let created = app
        .api(&shop.token)
        .create_send(&crate::create::egift(shop.egift))
        .await
        .unwrap();
    let egift = app.all_sends(&shop.token).await["sends"][0]["id"]
        .as_i64()
        .unwrap();
    let url = created.tracking_url.clone().unwrap();
    let browser = crate::http::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    browser.get(format!("{url}/open.gif")).send().await.unwrap();
    let page = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::oauth::csrf_of(&page);
    let redeemed = browser
        .post(format!("{url}/redeem"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(redeemed.status(), 303);
    assert_eq!(
        events(&app, org, egift).await,
        expected(&[
            (0, "send.initiated", "pending"),
            (1, "send.sent", "Sent"),
            (2, "send.opened", "Opened"),
            (3, "send.clicked", "Clicked"),
            (4, "send.redeemed", "Used"),
        ])
    );
    let all = app
        .store
        .send_events(org, SendId::new(egift))
        .await
        .unwrap();
    assert_eq!(
        all[0].occurred_at, all[1].occurred_at,
        "created and sent at once"
    );

    // The fulfillment endpoint moves a physical send.
    app.api(&shop.token)
        .create_send(&physical(shop.wine))
        .await
        .unwrap();
    let wine = app.all_sends(&shop.token).await["sends"][1]["id"]
        .as_i64()
        .unwrap();
    for (status, at) in [
        ("Processing", "2030-03-02T10:00:00Z"),
        ("Packed", "2030-03-03T10:00:00Z"),
        ("Shipped", "2030-03-04T10:00:00Z"),
        ("Delivered", "2030-03-05T10:00:00Z"),
    ] {
        let (code, _, body) = app
            .post(
                &format!("/api/v3/send/{wine}/status_updates"),
                &shop.token,
                &json!({"status": status, "occurred_at": at}),
                None,
            )
            .await;
        assert_eq!(code, 200, "{body}");
    }
    assert_eq!(
        events(&app, org, wine).await,
        expected(&[
            (0, "send.initiated", "pending"),
            (1, "send.order_received", "Processing"),
            (2, "send.fulfilling", "Packed"),
            (3, "send.shipped", "Shipped"),
            (4, "send.delivered", "Delivered"),
        ])
    );

    // The worker: an unredeemed eGift expires.
    app.api(&shop.token)
        .create_send(&crate::create::egift(shop.egift))
        .await
        .unwrap();
    let waiting = app.all_sends(&shop.token).await["sends"][2]["id"]
        .as_i64()
        .unwrap();
    app.clock.advance(91 * 86_400);
    assert_eq!(app.worker.tick().await.unwrap().deadlines_applied, 1);
    assert_eq!(
        events(&app, org, waiting).await,
        expected(&[
            (0, "send.initiated", "pending"),
            (1, "send.sent", "Sent"),
            (2, "send.expired", "Expired")
        ])
    );

    // The store, as the CLI's `send create` and `send status` use it.
    let touch = app
        .store
        .touch(org, giftwire_core::TouchId::new(shop.wine))
        .await
        .unwrap();
    let id = app
        .create_send(
            org,
            &touch,
            &shop.org.user,
            ("Bo", "bo@x.example", None),
            "CLI",
            "2030-06-01T00:00:00Z",
        )
        .await;
    app.change_status(org, id, "Cancelled", "2030-06-02T00:00:00Z", None)
        .await;
    assert_eq!(
        events(&app, org, id.get()).await,
        expected(&[
            (0, "send.initiated", "pending"),
            (1, "send.canceled", "Cancelled")
        ])
    );
    // Another organization's events are its own.
    let other = self::shop(&app, "Globex").await;
    assert!(
        app.store
            .send_events(other.org.org.id, SendId::new(wine))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn refused_changes_write_no_event(backend: Backend) {
    let app = spawn_with(backend, TestConfig::default()).await;
    let shop = shop(&app, "Acme").await;
    let org = shop.org.org.id;
    app.api(&shop.token)
        .create_send(&physical(shop.wine))
        .await
        .unwrap();
    let wine = app.all_sends(&shop.token).await["sends"][0]["id"]
        .as_i64()
        .unwrap();
    let report = |status: &str| {
        let app = &app;
        let token = shop.token.clone();
        let body = json!({"status": status, "occurred_at": "2031-01-01T00:00:00Z"});
        async move {
            app.post(
                &format!("/api/v3/send/{wine}/status_updates"),
                &token,
                &body,
                None,
            )
            .await
            .0
        }
    };
    assert_eq!(
        report("Delivered").await,
        409,
        "pending cannot be delivered"
    );
    assert_eq!(report("Nonsense").await, 400);
    assert_eq!(
        events(&app, org, wine).await,
        expected(&[(0, "send.initiated", "pending")])
    );
    // A send its sender cannot pay for is refused whole: no send, no event.
    let poor = app
        .create_unfunded_user(org, "Pat Poor", "pat@acme.example", None)
        .await;
    let token = app.create_token(&poor, "public write", None).await;
    let before = app.all_sends(&shop.token).await["total_count"].clone();
    let (status, _, _) = app
        .post("/api/v3/send", &token, &egift_body(shop.egift), None)
        .await;
    assert_eq!(status, 400);
    assert_eq!(app.all_sends(&shop.token).await["total_count"], before);
    let next = wine + 1;
    assert!(
        app.store
            .send_events(org, SendId::new(next))
            .await
            .unwrap()
            .is_empty()
    );
}
