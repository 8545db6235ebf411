//! Create Send over HTTP (API_REFERENCE.md §9.2–9.3, CONTRACT.md §7): the three variants,
//! eGift links, every documented validation message, touches that cannot send, idempotency,
//! reading one send, and the fulfillment endpoint.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestOrg, assert_valid, backend_tests, spawn};

/// An organization whose token may write and report fulfillment, with an eGift touch and a
/// physical one shipping to the US and Canada.
pub struct Shop {
    pub org: TestOrg,
    pub token: String,
    pub egift: i64,
    pub wine: i64,
}

pub async fn shop(app: &TestApp, name: &str) -> Shop {
    let org = app.create_org(name, "America/Los_Angeles").await;
    let token = app
        .create_token(&org.user, "public write fulfillment", None)
        .await;
    let egift = app
        .create_touch(
            org.org.id,
            "eGift Cards USA",
            "eGifts USA",
            "eGift Cards USA",
            "25",
        )
        .await;
    let wine = app
        .create_touch(org.org.id, "Wine", "Sendoso Direct", "Wine", "49.90")
        .await;
    Shop {
        org,
        token,
        egift: egift.id.get(),
        wine: wine.id.get(),
    }
}

pub fn egift_body(touch: i64) -> Value {
    json!({"send": {
        "touch_id": touch, "email": "john.doe@acme.com", "name": "John Doe",
        "custom_message": "Thanks for the call!", "via": "single_email_address", "via_from": "Acme CRM"
    }})
}

pub fn physical_body(touch: i64) -> Value {
    json!({"send": {
        "touch_id": touch, "name": "Ann Lee", "email": "ann@globex.com",
        "address": "639 Front St, Floor 3", "city": "San Francisco", "state": "CA", "zip": "94111",
        "country": "USA", "mobile_no": 1234567890, "custom_message": "Enjoy", "confirm_address": false,
        "via": "single_person_or_company", "via_from": "Acme CRM"
    }})
}

pub fn collection_body(touch: i64, via: &str) -> Value {
    json!({"send": {
        "touch_id": touch, "name": "Bo Chen", "email": "bo@initech.com", "no_address": true,
        "confirm_address": true, "address_confirmation_via": via, "resume_with_unconfirmed_address": false,
        "expire_after_days": 5, "hide_product_info": true,
        "address_confirmation_custom_message": "Please update your shipping address!",
        "via": "single_person_or_company", "via_from": "Acme CRM"
    }})
}

/// [`egift_body`]'s send, typed, for giftwire-client.
pub fn egift(touch: i64) -> giftwire_client::api::NewSend {
    serde_json::from_value(egift_body(touch)["send"].clone()).expect("a Create Send body")
}

/// [`physical_body`]'s send, typed, for giftwire-client.
pub fn physical(touch: i64) -> giftwire_client::api::NewSend {
    serde_json::from_value(physical_body(touch)["send"].clone()).expect("a Create Send body")
}

impl TestApp {
    /// giftwire-client with `token`, for what a test does through the API without looking at
    /// the wire (its setup, say): failures are errors, not statuses to forget to check.
    pub fn api(&self, token: &str) -> giftwire_client::Client {
        giftwire_client::Client::builder(self.address.as_str())
            .token(token)
            .http_client(self.client.clone())
            .build()
            .expect("a client")
    }

    /// POST with a bearer token and an optional `Idempotency-Key`.
    pub async fn post(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        key: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.json().await.expect("a JSON body"))
    }

    /// Every send of the organization, as listed.
    pub async fn all_sends(&self, token: &str) -> Value {
        let (status, _, body) = self.get("/api/v3/send?per_page=100", token).await;
        assert_eq!(status, 200, "{body}");
        assert_valid(&body);
        body
    }
}

fn is_tracking_code(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 40
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

async fn an_egift_by_email_is_sent_listed_and_mailed(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (status, headers, body) = app
        .post("/api/v3/send", &shop.token, &egift_body(shop.egift), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "EGifts send Successfully");
    assert!(is_tracking_code(&body["tracking_code"]), "{body}");
    let code = body["tracking_code"].as_str().unwrap();
    assert_eq!(body["tracking_url"], app.url(&format!("/track/{code}")));
    assert_eq!(body.as_object().unwrap().len(), 4);

    let listed = app.all_sends(&shop.token).await;
    let send = &listed["sends"][0];
    assert_eq!(listed["total_count"], 1);
    assert_eq!(send["status"], "Sent");
    assert_eq!(send["type"], "eGifts USA");
    assert_eq!(send["sent_via"], "Acme CRM");
    assert_eq!(send["current_total_cost"], "25.0");
    assert_eq!(
        send["recipient"],
        json!({"name": "John Doe", "email": "john.doe@acme.com", "company_name": null})
    );
    assert_eq!(send["sender"]["id"], shop.org.user.id.get());
    assert_eq!(send["status_updates"][0]["status"], "Sent");
    assert_eq!(send["status_updates"][0]["occurred_at"], send["created_at"]);

    let outbox = app.store.outbox(Some(shop.org.org.id), 10).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].to, "john.doe@acme.com");
    assert!(outbox[0].text_body.contains(&format!("/track/{code}")));
    assert!(outbox[0].text_body.contains("Thanks for the call!"));
    assert!(outbox[0].html_body.as_deref().unwrap().contains("open.gif"));
}

async fn a_physical_gift_is_pending_until_fulfillment_reports(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let mut body = physical_body(shop.wine);
    body["send"]["touch_id"] = json!(shop.wine.to_string());
    let (status, _, answer) = app.post("/api/v3/send", &shop.token, &body, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["message"], "Gift send Successfully");
    assert!(is_tracking_code(&answer["tracking_code"]));
    assert!(answer.get("tracking_url").is_none());
    let listed = app.all_sends(&shop.token).await;
    assert_eq!(listed["sends"][0]["status"], "pending");
    assert_eq!(listed["sends"][0]["type"], "Sendoso Direct");
    assert_eq!(listed["sends"][0]["current_total_cost"], "49.9");
    assert!(
        app.store
            .outbox(Some(shop.org.org.id), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn an_address_collection_asks_the_recipient_or_hands_the_sender_a_link(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (status, _, by_email) = app
        .post(
            "/api/v3/send",
            &shop.token,
            &collection_body(shop.wine, "email"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{by_email}");
    assert_eq!(by_email["message"], "Gift send Successfully");
    assert!(by_email.get("address_confirmation_link").is_none());
    let (status, _, by_link) = app
        .post(
            "/api/v3/send",
            &shop.token,
            &collection_body(shop.wine, "link"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{by_link}");
    let code = by_link["tracking_code"].as_str().unwrap();
    assert_eq!(
        by_link["address_confirmation_link"],
        app.url(&format!("/address/{code}"))
    );

    let listed = app.all_sends(&shop.token).await;
    for send in listed["sends"].as_array().unwrap() {
        assert_eq!(send["status"], "Confirming Address");
    }
    let mut outbox = app.store.outbox(Some(shop.org.org.id), 10).await.unwrap();
    outbox.reverse();
    assert_eq!(outbox[0].to, "bo@initech.com");
    assert!(
        outbox[0]
            .text_body
            .contains("Please update your shipping address!")
    );
    assert_eq!(
        outbox[1].to, shop.org.user.email,
        "link mode mails the sender"
    );
    assert!(outbox[1].text_body.contains(&format!("/address/{code}")));
}

async fn every_documented_validation_message_and_nothing_written(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let physical = physical_body(shop.wine);
    let collection = collection_body(shop.wine, "email");
    let egift = egift_body(shop.egift);
    let with = |base: &Value, field: &str, value: Value| {
        let mut body = base.clone();
        match value {
            Value::Null => {
                body["send"].as_object_mut().unwrap().remove(field);
            }
            v => body["send"][field] = v,
        }
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "send can't be blank"),
        (json!({"send": "x"}), "send is invalid"),
        (with(&physical, "via", Value::Null), "via can't be blank"),
        (with(&physical, "via", json!("pigeon")), "via is invalid"),
        (
            with(&physical, "via_from", Value::Null),
            "via_from can't be blank",
        ),
        (
            with(&physical, "via_from", json!("  ")),
            "via_from can't be blank",
        ),
        (
            with(&physical, "touch_id", Value::Null),
            "touch_id can't be blank",
        ),
        (
            with(&physical, "touch_id", json!("abc")),
            "touch_id is invalid",
        ),
        (
            with(&physical, "touch_id", json!(1.5)),
            "touch_id is invalid",
        ),
        (with(&physical, "name", Value::Null), "name can't be blank"),
        (
            with(&physical, "email", Value::Null),
            "email can't be blank",
        ),
        (
            with(&physical, "email", json!("ann-at-globex")),
            "email is invalid",
        ),
        (
            with(&physical, "confirm_address", Value::Null),
            "confirm_address can't be blank",
        ),
        (
            with(&physical, "confirm_address", json!("maybe")),
            "confirm_address is invalid",
        ),
        (
            with(&physical, "address", Value::Null),
            "address can't be blank",
        ),
        (with(&physical, "city", json!("")), "city can't be blank"),
        (
            with(&physical, "state", Value::Null),
            "state can't be blank",
        ),
        (with(&physical, "zip", Value::Null), "zip can't be blank"),
        (
            with(&physical, "country", Value::Null),
            "country can't be blank",
        ),
        (
            with(&physical, "country", json!("Atlantis")),
            "country is invalid",
        ),
        (
            with(&physical, "mobile_no", json!("call me")),
            "mobile_no is invalid",
        ),
        (
            with(
                &with(&physical, "country", json!("CA")),
                "mobile_no",
                Value::Null,
            ),
            "mobile_no can't be blank",
        ),
        (
            with(&collection, "confirm_address", json!(false)),
            "confirm_address is invalid",
        ),
        (
            with(&collection, "address_confirmation_via", Value::Null),
            "address_confirmation_via can't be blank",
        ),
        (
            with(&collection, "address_confirmation_via", json!("fax")),
            "address_confirmation_via is invalid",
        ),
        (
            with(&collection, "resume_with_unconfirmed_address", Value::Null),
            "resume_with_unconfirmed_address can't be blank",
        ),
        (
            with(&collection, "expire_after_days", Value::Null),
            "expire_after_days can't be blank",
        ),
        (
            with(&collection, "expire_after_days", json!(1)),
            "expire_after_days is invalid",
        ),
        (
            with(&collection, "expire_after_days", json!(8)),
            "expire_after_days is invalid",
        ),
        (
            with(&collection, "expire_after_days", json!("five")),
            "expire_after_days is invalid",
        ),
        (
            with(&collection, "hide_product_info", Value::Null),
            "hide_product_info can't be blank",
        ),
        (with(&egift, "email", Value::Null), "email can't be blank"),
        (with(&egift, "email", json!(42)), "email is invalid"),
        (with(&egift, "name", json!(["x"])), "name is invalid"),
    ];
    for (body, message) in cases {
        let (status, _, answer) = app.post("/api/v3/send", &shop.token, &body, None).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(
            answer,
            json!({"success": false, "message": message}),
            "{body}"
        );
    }
    // Not JSON at all, and too large.
    let response = app
        .client
        .post(app.url("/api/v3/send"))
        .bearer_auth(&shop.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["message"], "The request body is not valid JSON");
    let huge = format!(
        "{{\"send\": {{\"custom_message\": \"{}\"}}}}",
        "x".repeat(1 << 20)
    );
    let response = app
        .client
        .post(app.url("/api/v3/send"))
        .bearer_auth(&shop.token)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"success": false, "message": "The request body is larger than 1 MiB"})
    );

    assert_eq!(app.all_sends(&shop.token).await["total_count"], 0);
    assert!(
        app.store
            .outbox(Some(shop.org.org.id), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn touches_that_cannot_send_are_not_found_or_refused(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let other = self::shop(&app, "Globex").await;
    let org = shop.org.org.id;
    let mk = |name: &str, active: bool, starts: Option<&str>, ends: Option<&str>| {
        giftwire_core::store::NewTouch {
            name: giftwire_core::Name::parse("name", name).unwrap(),
            send_type: "eGifts USA".parse().unwrap(),
            subtype: "Coffee".parse().unwrap(),
            currency: "USD".parse().unwrap(),
            price: "5".parse().unwrap(),
            delivery_type: giftwire_core::DeliveryType::Email,
            starts_on: starts.map(|d| d.parse().unwrap()),
            ends_on: ends.map(|d| d.parse().unwrap()),
            active,
            ship_to: giftwire_core::ShipTo::us(),
            details: Default::default(),
        }
    };
    let inactive = app
        .store
        .create_touch(org, mk("Off", false, None, None))
        .await
        .unwrap();
    let future = app
        .store
        .create_touch(org, mk("Later", true, Some("2999-01-01"), None))
        .await
        .unwrap();
    let past = app
        .store
        .create_touch(org, mk("Over", true, None, Some("2001-01-01")))
        .await
        .unwrap();
    let open = app
        .store
        .create_touch(
            org,
            mk("Open", true, Some("2001-01-01"), Some("2999-01-01")),
        )
        .await
        .unwrap();
    for touch in [
        999_999,
        inactive.id.get(),
        future.id.get(),
        past.id.get(),
        other.egift,
    ] {
        let (status, _, answer) = app
            .post("/api/v3/send", &shop.token, &egift_body(touch), None)
            .await;
        assert_eq!(status, 404, "touch {touch}: {answer}");
        assert_eq!(
            answer,
            json!({"success": false, "message": "Touch not found"})
        );
    }
    let (status, _, _) = app
        .post(
            "/api/v3/send",
            &shop.token,
            &egift_body(open.id.get()),
            None,
        )
        .await;
    assert_eq!(status, 200);
    // An eGift from a physical touch, and a physical gift from an eGift touch.
    let (status, _, answer) = app
        .post("/api/v3/send", &shop.token, &egift_body(shop.wine), None)
        .await;
    assert_eq!(status, 400);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("touch_id is invalid"),
        "{answer}"
    );
    let (status, _, _) = app
        .post(
            "/api/v3/send",
            &shop.token,
            &physical_body(shop.egift),
            None,
        )
        .await;
    assert_eq!(status, 400);
    // Outside the touch's countries (US, CA).
    let mut body = physical_body(shop.wine);
    body["send"]["country"] = json!("France");
    let (status, _, answer) = app.post("/api/v3/send", &shop.token, &body, None).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["message"],
        format!(
            "country is invalid: touch {} ships to US,CA only",
            shop.wine
        )
    );
    body["send"]["country"] = json!("Canada");
    let (status, _, _) = app.post("/api/v3/send", &shop.token, &body, None).await;
    assert_eq!(status, 200);
    assert_eq!(app.all_sends(&shop.token).await["total_count"], 2);
}

async fn creating_needs_the_write_scope(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let reader = app
        .create_token(&shop.org.user, "public fulfillment", None)
        .await;
    let (status, headers, answer) = app
        .post("/api/v3/send", &reader, &egift_body(shop.egift), None)
        .await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(
        headers["www-authenticate"],
        r#"Bearer realm="giftwire", error="insufficient_scope", scope="write""#
    );
    let (status, _, _) = app
        .post(
            "/api/v3/send/generate_egift_links",
            &reader,
            &json!({}),
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(app.all_sends(&shop.token).await["total_count"], 0);
}

async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let other = self::shop(&app, "Globex").await;
    let body = egift_body(shop.egift);
    let (status, headers, first) = app
        .post("/api/v3/send", &shop.token, &body, Some("order-42"))
        .await;
    assert_eq!(status, 200);
    assert!(headers.get("idempotent-replayed").is_none());
    // The same request, even re-serialized in another key order, answers the same.
    let reordered: Value = serde_json::from_str(&format!(
        r#"{{"send": {{"via_from": "Acme CRM", "via": "single_email_address", "custom_message": "Thanks for the call!", "name": "John Doe", "email": "john.doe@acme.com", "touch_id": {}}}}}"#,
        shop.egift
    ))
    .unwrap();
    for again in [&body, &reordered] {
        let (status, headers, replay) = app
            .post("/api/v3/send", &shop.token, again, Some("order-42"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(replay, first);
        assert_eq!(headers["idempotent-replayed"], "true");
    }
    assert_eq!(app.all_sends(&shop.token).await["total_count"], 1);
    assert_eq!(
        app.store
            .outbox(Some(shop.org.org.id), 10)
            .await
            .unwrap()
            .len(),
        1
    );

    let mut changed = body.clone();
    changed["send"]["email"] = json!("someone.else@acme.com");
    let (status, _, answer) = app
        .post("/api/v3/send", &shop.token, &changed, Some("order-42"))
        .await;
    assert_eq!(status, 409);
    assert_eq!(answer["success"], false);
    assert!(
        answer["message"].as_str().unwrap().contains("order-42"),
        "{answer}"
    );
    // Another key, or the same key in another organization, is another request.
    let (_, _, second) = app
        .post("/api/v3/send", &shop.token, &body, Some("order-43"))
        .await;
    assert_ne!(second["tracking_code"], first["tracking_code"]);
    let (status, _, _) = app
        .post(
            "/api/v3/send",
            &other.token,
            &egift_body(other.egift),
            Some("order-42"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.all_sends(&shop.token).await["total_count"], 2);
    assert_eq!(app.all_sends(&other.token).await["total_count"], 1);
}

async fn two_concurrent_requests_with_one_key_create_one_send(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let body = physical_body(shop.wine);
    for round in 0..5 {
        let key = format!("retry-{round}");
        let (a, b, c) = tokio::join!(
            app.post("/api/v3/send", &shop.token, &body, Some(&key)),
            app.post("/api/v3/send", &shop.token, &body, Some(&key)),
            app.post("/api/v3/send", &shop.token, &body, Some(&key)),
        );
        assert_eq!((a.0, b.0, c.0), (200, 200, 200), "{} {} {}", a.2, b.2, c.2);
        assert_eq!(a.2["tracking_code"], b.2["tracking_code"]);
        assert_eq!(a.2["tracking_code"], c.2["tracking_code"]);
    }
    assert_eq!(app.all_sends(&shop.token).await["total_count"], 5);
}

async fn egift_links_give_each_recipient_a_link_of_its_own(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let body = json!({"send": {"touch_id": shop.egift, "via": "generate_egift_links", "via_from": "Acme CRM",
        "recipient_users": [{"email": "developers@sendoso.com"}, {"email": "ops@acme.com"}]}});
    let (status, _, answer) = app
        .post(
            "/api/v3/send/generate_egift_links",
            &shop.token,
            &body,
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["success"], true);
    assert_eq!(
        answer["message"],
        "Success! Here are your 2 eGift Card links:"
    );
    assert_eq!(answer["expiration_days"], 90);
    let links = answer["egift_links"].as_array().unwrap();
    assert_eq!(
        links[0]["recipient_email_or_phone_number"],
        "developers@sendoso.com"
    );
    assert_eq!(links[1]["recipient_email_or_phone_number"], "ops@acme.com");
    assert_ne!(links[0]["egift_link"], links[1]["egift_link"]);
    let first = links[0]["egift_link"].as_str().unwrap();
    assert!(first.starts_with(&app.url("/track/")), "{first}");
    let page = app.client.get(first).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let listed = app.all_sends(&shop.token).await;
    assert_eq!(listed["total_count"], 2);
    for send in listed["sends"].as_array().unwrap() {
        assert_eq!(send["sent_via"], "Acme CRM");
    }
    for (body, message) in [
        (
            json!({"send": {"touch_id": shop.egift, "via": "single_email_address", "via_from": "x", "recipient_users": [{"email": "a@b.co"}]}}),
            "via is invalid",
        ),
        (
            json!({"send": {"touch_id": shop.egift, "via": "generate_egift_links", "via_from": "x", "recipient_users": []}}),
            "recipient_users can't be blank",
        ),
        (
            json!({"send": {"touch_id": shop.egift, "via": "generate_egift_links", "via_from": "x", "recipient_users": [{"email": "nope"}]}}),
            "recipient_users is invalid",
        ),
        (
            json!({"send": {"via": "generate_egift_links", "via_from": "x", "recipient_users": [{"email": "a@b.co"}]}}),
            "touch_id can't be blank",
        ),
    ] {
        let (status, _, answer) = app
            .post(
                "/api/v3/send/generate_egift_links",
                &shop.token,
                &body,
                None,
            )
            .await;
        assert_eq!(status, 400);
        assert_eq!(answer["message"], message);
    }
}

async fn a_send_is_read_by_id_or_gid_and_another_organizations_is_not_found(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let other = self::shop(&app, "Globex").await;
    app.post("/api/v3/send", &shop.token, &egift_body(shop.egift), None)
        .await;
    let listed = app.all_sends(&shop.token).await;
    let send = &listed["sends"][0];
    // CONTRACT §5: gids are read padded, unpadded and URL-safe.
    use base64::Engine as _;
    let raw = format!("gid://sendoso/Send/{}", send["id"]);
    let padded = base64::engine::general_purpose::STANDARD.encode(&raw);
    let url_safe = base64::engine::general_purpose::URL_SAFE.encode(&raw);
    for path in [
        format!("/api/v3/send/{}", send["id"]),
        format!("/api/v3/send/{}", send["send_gid"].as_str().unwrap()),
        format!("/api/v3/send/{padded}"),
        format!("/api/v3/send/{url_safe}"),
        format!("/api/v3/send/{}.json", send["id"]),
    ] {
        let (status, _, body) = app.get(&path, &shop.token).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body, json!({"success": true, "send": send}), "{path}");
    }
    for path in [
        format!("/api/v3/send/{}", send["id"]),
        "/api/v3/send/999999".to_owned(),
        "/api/v3/send/%20nope".to_owned(),
    ] {
        let (status, _, body) = app.get(&path, &other.token).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body, json!({"success": false, "message": "Send not found"}));
    }
}

async fn fulfillment_reports_move_a_physical_send_and_refusals_change_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let other = self::shop(&app, "Globex").await;
    app.post("/api/v3/send", &shop.token, &physical_body(shop.wine), None)
        .await;
    let id = app.all_sends(&shop.token).await["sends"][0]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v3/send/{id}/status_updates");
    let report = |status: &str, at: &str| json!({"status": status, "occurred_at": at});

    let mut processing = report("Processing", "2030-01-01T10:00:00Z");
    processing["current_total_cost"] = json!("61.25");
    let (status, _, body) = app.post(&path, &shop.token, &processing, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["send"]["status"], "Processing");
    assert_eq!(body["send"]["current_total_cost"], "61.25");
    assert_eq!(
        body["send"]["status_updates"][0]["occurred_at"],
        "2030-01-01T02:00:00-08:00"
    );
    for (status, at) in [
        ("Packed", "2030-01-02T10:00:00Z"),
        ("Shipped", "2030-01-03T10:00:00Z"),
    ] {
        let (code, _, body) = app
            .post(&path, &shop.token, &report(status, at), None)
            .await;
        assert_eq!(code, 200, "{body}");
    }
    // A change may not precede the previous one (Shipped at 2030-01-03).
    let (code, _, body) = app
        .post(
            &path,
            &shop.token,
            &report("Delivered", "2030-01-02T10:00:00Z"),
            None,
        )
        .await;
    assert_eq!(code, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("\"Shipped\""),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("time order"),
        "{body}"
    );
    let mut delivered = report("Delivered", "2030-01-05T10:00:00Z");
    delivered["current_total_cost"] = json!(63.5);
    let (code, _, body) = app.post(&path, &shop.token, &delivered, None).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["send"]["current_total_cost"], "63.5");
    let before = app.all_sends(&shop.token).await;

    let (code, _, body) = app
        .post(
            &path,
            &shop.token,
            &report("Shipped", "2030-01-06T10:00:00Z"),
            None,
        )
        .await;
    assert_eq!(code, 409);
    assert_eq!(
        body["message"],
        "a send in status \"Delivered\" cannot change to \"Shipped\""
    );
    let mut cost = report("Delivered", "2030-01-06T10:00:00Z");
    cost["current_total_cost"] = json!("1.0");
    let (code, _, body) = app.post(&path, &shop.token, &cost, None).await;
    assert_eq!(code, 409);
    assert!(
        body["message"].as_str().unwrap().contains("\"Delivered\""),
        "{body}"
    );
    assert_eq!(
        app.all_sends(&shop.token).await,
        before,
        "refusals change nothing"
    );

    // Validation, scope and tenancy.
    for (body, message) in [
        (json!({}), "status can't be blank"),
        (json!({"status": "Lost"}), "status is invalid"),
        (json!({"status": "pending"}), "status is invalid"),
        (
            json!({"status": "Shipped", "occurred_at": "yesterday"}),
            "occurred_at is invalid",
        ),
        (
            json!({"status": "Shipped", "current_total_cost": "-1"}),
            "current_total_cost is invalid",
        ),
    ] {
        let (code, _, answer) = app.post(&path, &shop.token, &body, None).await;
        assert_eq!(code, 400, "{body}");
        assert_eq!(answer["message"], message);
    }
    let writer = app.create_token(&shop.org.user, "public write", None).await;
    let (code, headers, _) = app
        .post(
            &path,
            &writer,
            &report("Packed", "2030-02-01T00:00:00Z"),
            None,
        )
        .await;
    assert_eq!(code, 403);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains(r#"scope="fulfillment""#)
    );
    let (code, _, body) = app
        .post(
            &path,
            &other.token,
            &report("Packed", "2030-02-01T00:00:00Z"),
            None,
        )
        .await;
    assert_eq!(code, 404);
    assert_eq!(body["message"], "Send not found");
    assert_eq!(app.all_sends(&shop.token).await, before);
}

/// Over HTTP, at every step of a digital and a physical path, every status the lifecycle does
/// not allow next is a 409 naming both statuses, and the send stays as it was.
async fn every_lifecycle_refusal_is_a_409_that_changes_nothing(backend: Backend) {
    use giftwire_core::SendStatus;
    use giftwire_core::lifecycle::{StatusEntry, allowed_next};

    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (_, _, _) = app
        .post("/api/v3/send", &shop.token, &egift_body(shop.egift), None)
        .await;
    let (_, _, _) = app
        .post("/api/v3/send", &shop.token, &physical_body(shop.wine), None)
        .await;
    let listed = app.all_sends(&shop.token).await;
    let paths: [(i64, giftwire_core::SendKind, &[&str]); 2] = [
        (
            listed["sends"][0]["id"].as_i64().unwrap(),
            giftwire_core::SendKind::Digital,
            &["Opened", "Clicked", "Used"],
        ),
        (
            listed["sends"][1]["id"].as_i64().unwrap(),
            giftwire_core::SendKind::Physical,
            &[
                "Processing",
                "Paused",
                "Processing",
                "Packed",
                "Shipped",
                "Undeliverable",
                "Refunded",
            ],
        ),
    ];
    let mut clock = 0;
    for (id, kind, path) in paths {
        let url = format!("/api/v3/send/{id}/status_updates");
        let mut history: Vec<StatusEntry> = match kind {
            giftwire_core::SendKind::Digital => vec![StatusEntry {
                status: SendStatus::Sent,
                occurred_at: jiff::Timestamp::UNIX_EPOCH,
            }],
            giftwire_core::SendKind::Physical => vec![],
        };
        for step in path.iter().map(|s| Some(*s)).chain([None]) {
            let allowed = allowed_next(kind, &history);
            let (_, _, before) = app.get(&format!("/api/v3/send/{id}"), &shop.token).await;
            let from = before["send"]["status"].as_str().unwrap().to_owned();
            for status in SendStatus::ALL
                .iter()
                .filter(|s| !allowed.contains(s) && **s != SendStatus::Pending)
            {
                let (code, _, body) = app
                    .post(&url, &shop.token, &json!({"status": status.as_str()}), None)
                    .await;
                assert_eq!(code, 409, "{from} -> {status}: {body}");
                assert_eq!(
                    body["message"],
                    format!("a send in status \"{from}\" cannot change to \"{status}\""),
                );
            }
            let (_, _, after) = app.get(&format!("/api/v3/send/{id}"), &shop.token).await;
            assert_eq!(after, before, "refusals changed the send");
            let Some(step) = step else { break };
            clock += 60;
            let at = jiff::Timestamp::from_second(1_900_000_000 + clock)
                .unwrap()
                .to_string();
            let (code, _, body) = app
                .post(
                    &url,
                    &shop.token,
                    &json!({"status": step, "occurred_at": at}),
                    None,
                )
                .await;
            assert_eq!(code, 200, "{from} -> {step}: {body}");
            history.push(StatusEntry {
                status: step.parse().unwrap(),
                occurred_at: jiff::Timestamp::UNIX_EPOCH,
            });
        }
    }
    let listed = app.all_sends(&shop.token).await;
    assert_eq!(listed["sends"][0]["status"], "Used");
    assert_eq!(listed["sends"][1]["status"], "Refunded");
    assert_eq!(listed["sends"][1]["current_total_cost"], "0.0");
}

backend_tests!(
    an_egift_by_email_is_sent_listed_and_mailed,
    a_physical_gift_is_pending_until_fulfillment_reports,
    an_address_collection_asks_the_recipient_or_hands_the_sender_a_link,
    every_documented_validation_message_and_nothing_written,
    touches_that_cannot_send_are_not_found_or_refused,
    creating_needs_the_write_scope,
    an_idempotency_key_replays_the_first_answer_and_refuses_another_body,
    two_concurrent_requests_with_one_key_create_one_send,
    egift_links_give_each_recipient_a_link_of_its_own,
    a_send_is_read_by_id_or_gid_and_another_organizations_is_not_found,
    fulfillment_reports_move_a_physical_send_and_refusals_change_nothing,
    every_lifecycle_refusal_is_a_409_that_changes_nothing,
);
